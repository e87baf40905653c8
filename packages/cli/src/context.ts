/** What a command gets besides its arguments: I/O and environment (tests pass their own). */
export interface CliContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  /** Binary output to stdout (`--output -`); default process.stdout. */
  readonly stdoutStream?: NodeJS.WritableStream;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
  readonly color: boolean;
  readonly isTty: boolean;
  /**
   * The process's own byte streams, for commands that pass a container's I/O through untouched
   * (`strata run`); absent in tests that capture text.
   */
  readonly streams?: {
    readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
    readonly stdout: (bytes: Uint8Array) => void;
    readonly stderr: (bytes: Uint8Array) => void;
  };
}
