/** An invalid template or pattern; `code` is a stable STRATA_TEMPLATE_… code. */
export class TemplateError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "TemplateError";
    this.code = code;
  }
}
