import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * A RUN step's log in the store (`logs/<op>.log`, mode 0600 in a 0700 directory), written from
 * the step's output lines after they are masked: a secret the step prints never reaches the
 * disk in clear. (The executor's own raw log is not used for that reason.)
 */
export class StepLog {
  readonly file: string;
  #fd: number | undefined;

  constructor(file: string, private readonly mask: (line: string) => string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.#fd = openSync(file, "w", 0o600);
  }

  /** Appends one masked line (output lines arrive without their newline). */
  line(text: string): void {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, `${this.mask(text)}\n`);
    } catch {
      // A full disk must not fail the step; the log is for reading afterwards.
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
