/**
 * The OCI image configuration (`config` member of the image config blob), with Docker's
 * extensions that the OCI spec leaves to implementations (Healthcheck, Shell, OnBuild).
 * Field names and casing follow the JSON on the wire, so a pulled config can be read as-is.
 */
export interface ImageConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, Record<string, never>>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly Healthcheck?: HealthConfig;
  readonly Shell?: readonly string[];
  readonly OnBuild?: readonly string[] | null;
}

/** Docker's health check; durations in nanoseconds as on the wire. */
export interface HealthConfig {
  /** `["NONE"]` disables an inherited check; `["CMD", …]` or `["CMD-SHELL", "…"]` runs one. */
  readonly Test: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** The image config blob around `config` (what the manifest's config descriptor points at). */
export interface ImageConfigFile {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly created?: string;
  readonly author?: string;
  readonly config: ImageConfig;
  readonly rootfs: { readonly type: "layers"; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[];
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** Docker's default PATH for Linux containers, used when neither the image nor the step sets one. */
export const DEFAULT_LINUX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_SHELL: readonly string[] = Object.freeze(["/bin/sh", "-c"]);
