import type { ErrorCode } from "@strata/graph";
/**
 * The typed Dockerfile AST. Values that BuildKit expands at conversion time are kept as the
 * raw word text (quotes and `$VARS` as written) so the importer can turn them into
 * templates with `toTemplate`; nothing here is expanded.
 */

/** 1-based line and column (UTF-16 code units); `end` is inclusive (the last character). */
export interface Position {
  readonly line: number;
  readonly column: number;
}
export interface Span {
  readonly start: Position;
  readonly end: Position;
}

export type Severity = "error" | "warning" | "info";

export interface DockerfileDiagnostic {
  /** Stable code: `DF_PARSE_…` (BuildKit would refuse the file), `DF_LINT_…` (a build check). */
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string;
  /** For lint diagnostics: BuildKit's build-check rule name (e.g. `JSONArgsRecommended`). */
  readonly rule?: string;
}

export interface Comment {
  /** The text after `#`, trimmed. */
  readonly text: string;
  readonly span: Span;
}

/** A heredoc attached to RUN / COPY / ADD (BuildKit's parser.Heredoc). */
export interface Heredoc {
  readonly name: string;
  readonly fileDescriptor: number;
  /** False when any part of the delimiter was quoted: the body is not expanded. */
  readonly expand: boolean;
  /** `<<-`: leading tabs are stripped from the body lines (and the terminator). */
  readonly chomp: boolean;
  /** The body exactly as in the file (newlines included), tabs not yet stripped. */
  readonly content: string;
  readonly span: Span;
}

/** A raw flag as written: `--name=value` → { name, value }, `--name` → { name }. */
export interface RawFlag {
  readonly raw: string;
  readonly name: string;
  readonly value?: string;
}

/** The raw parse tree, shaped like BuildKit's parser.Node (see dump.ts). */
export interface RawNode {
  readonly value: string;
  readonly next: readonly RawNode[];
  readonly children: readonly RawNode[];
  readonly json: boolean;
  readonly original: string;
  readonly flags: readonly string[];
  readonly heredocs: readonly Heredoc[];
  readonly startLine: number;
  readonly endLine: number;
}

export type CommandForm =
  | { readonly form: "exec"; readonly argv: readonly string[] }
  | { readonly form: "shell"; readonly script: string };

export interface InstructionBase {
  readonly span: Span;
  /** The source text of the instruction exactly as in the file (all its lines, heredoc bodies included). */
  readonly raw: string;
  /** BuildKit's `Original`: the logical line with continuations joined. */
  readonly original: string;
  /** The keyword as written (`run`, `Run`, …). */
  readonly keyword: string;
  readonly flags: readonly RawFlag[];
  /** The comment block just before the instruction. */
  readonly comments: readonly Comment[];
}

export interface FromInstruction extends InstructionBase {
  readonly kind: "FROM";
  readonly image: string;
  readonly platform?: string;
  /** As written; BuildKit compares stage names lower-cased (`stageNameLower`). */
  readonly stageName?: string;
  readonly stageNameLower?: string;
  /** The `AS` keyword as written (for FromAsCasing). */
  readonly asKeyword?: string;
}

export interface ArgInstruction extends InstructionBase {
  readonly kind: "ARG";
  /** `default` is the raw word after `=` (quotes kept); absent when there is no `=`. */
  readonly args: readonly { readonly name: string; readonly default?: string }[];
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface EnvInstruction extends InstructionBase {
  readonly kind: "ENV";
  readonly pairs: readonly KeyValue[];
  /** `ENV key value` (one pair, the value is the rest of the line). */
  readonly legacy: boolean;
}

export interface LabelInstruction extends InstructionBase {
  readonly kind: "LABEL";
  readonly pairs: readonly KeyValue[];
  readonly legacy: boolean;
}

export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";

/** One `--mount=…` of RUN; values raw (they may hold `$VARS`, expanded by the importer). */
export interface ParsedMount {
  readonly raw: string;
  readonly type: MountType;
  readonly target?: string;
  readonly source?: string;
  readonly from?: string;
  /** Explicit readonly/ro/readwrite/rw; when absent BuildKit defaults: cache/tmpfs rw, others ro. */
  readonly readOnly: boolean;
  readonly readOnlyExplicit: boolean;
  readonly id?: string;
  readonly sharing?: "shared" | "private" | "locked";
  readonly required?: boolean;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** tmpfs size in bytes. */
  readonly size?: number;
  /** secret: expose the secret as this environment variable. */
  readonly env?: string;
  /** Every key=value as written (lower-cased keys), for anything the fields above lose. */
  readonly options: readonly { readonly key: string; readonly value?: string }[];
}

export interface RunInstruction extends InstructionBase {
  readonly kind: "RUN";
  readonly command: CommandForm;
  readonly heredocs: readonly Heredoc[];
  readonly mounts: readonly ParsedMount[];
  readonly network?: "default" | "none" | "host";
  readonly security?: "sandbox" | "insecure";
  readonly devices: readonly string[];
}

export interface CmdInstruction extends InstructionBase {
  readonly kind: "CMD";
  readonly command: CommandForm;
}

export interface EntrypointInstruction extends InstructionBase {
  readonly kind: "ENTRYPOINT";
  readonly command: CommandForm;
}

export type CopySource =
  | { readonly type: "path"; readonly path: string }
  | { readonly type: "heredoc"; readonly heredoc: Heredoc };

interface CopyAddCommon extends InstructionBase {
  readonly sources: readonly CopySource[];
  readonly dest: string;
  readonly heredocs: readonly Heredoc[];
  /** JSON-array form (`COPY ["a b", "/c/"]`). */
  readonly json: boolean;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly exclude: readonly string[];
}

export interface CopyInstruction extends CopyAddCommon {
  readonly kind: "COPY";
  readonly from?: string;
  readonly parents: boolean;
}

export interface AddInstruction extends CopyAddCommon {
  readonly kind: "ADD";
  readonly checksum?: string;
  readonly keepGitDir?: boolean;
  readonly unpack?: boolean;
}

export interface Duration {
  readonly raw: string;
  readonly nanoseconds: number;
}

export interface HealthcheckInstruction extends InstructionBase {
  readonly kind: "HEALTHCHECK";
  readonly type: "NONE" | "CMD";
  /** For CMD; BuildKit stores shell form as `CMD-SHELL`. */
  readonly command?: CommandForm;
  readonly interval?: Duration;
  readonly timeout?: Duration;
  readonly startPeriod?: Duration;
  readonly startInterval?: Duration;
  readonly retries?: number;
}

export interface ExposeInstruction extends InstructionBase {
  readonly kind: "EXPOSE";
  /** Raw words in file order (BuildKit sorts them; expansion may split them further). */
  readonly ports: readonly string[];
}

export interface MaintainerInstruction extends InstructionBase {
  readonly kind: "MAINTAINER";
  readonly maintainer: string;
}

export interface ShellInstruction extends InstructionBase {
  readonly kind: "SHELL";
  readonly shell: readonly string[];
}

export interface StopSignalInstruction extends InstructionBase {
  readonly kind: "STOPSIGNAL";
  readonly signal: string;
}

export interface UserInstruction extends InstructionBase {
  readonly kind: "USER";
  readonly user: string;
}

export interface WorkdirInstruction extends InstructionBase {
  readonly kind: "WORKDIR";
  readonly path: string;
}

export interface VolumeInstruction extends InstructionBase {
  readonly kind: "VOLUME";
  readonly paths: readonly string[];
  readonly json: boolean;
}

export interface OnbuildInstruction extends InstructionBase {
  readonly kind: "ONBUILD";
  /** The trigger as typed; undefined when it could not be parsed (see diagnostics). */
  readonly instruction?: Instruction;
  /** The trigger's source text (BuildKit's OnbuildCommand.Expression). */
  readonly expression: string;
}

export type Instruction =
  | FromInstruction
  | ArgInstruction
  | EnvInstruction
  | LabelInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | CopyInstruction
  | AddInstruction
  | HealthcheckInstruction
  | ExposeInstruction
  | MaintainerInstruction
  | ShellInstruction
  | StopSignalInstruction
  | UserInstruction
  | WorkdirInstruction
  | VolumeInstruction
  | OnbuildInstruction;

export type InstructionKind = Instruction["kind"];

export interface Stage {
  readonly index: number;
  readonly from: FromInstruction;
  /** Lower-cased stage name (how BuildKit refers to it), if any. */
  readonly name?: string;
  /** The instructions after FROM (FROM itself excluded). */
  readonly instructions: readonly Instruction[];
  readonly span: Span;
}

export interface Directive {
  /** Lower-cased: `syntax`, `escape` or `check`. */
  readonly name: string;
  readonly value: string;
  readonly span: Span;
}

export interface DockerfileAst {
  readonly directives: readonly Directive[];
  readonly escapeToken: "\\" | "`";
  readonly syntax?: string;
  /** ARG instructions before the first FROM. */
  readonly globalArgs: readonly ArgInstruction[];
  readonly stages: readonly Stage[];
  /** Every parsed instruction in file order (global ARGs and FROMs included). */
  readonly instructions: readonly Instruction[];
  /** Comments after the last instruction. */
  readonly trailingComments: readonly Comment[];
  /** The raw tree (BuildKit's root Node children), for dumpAst. */
  readonly raw: readonly RawNode[];
}

export interface ParseResult {
  readonly ast: DockerfileAst;
  readonly diagnostics: readonly DockerfileDiagnostic[];
}
