import type { HealthConfig } from "./image-config.ts";
import type { Command } from "./ops/exec-op.ts";

/**
 * One change to the image config, relative to the base image's config (which is only known
 * at build time). Strings marked "template" are expanded then, like a Dockerfile would.
 */
export type ConfigEdit =
  | { readonly edit: "env"; readonly name: string; readonly value: string /* template */ }
  | { readonly edit: "unsetEnv"; readonly name: string }
  | { readonly edit: "workdir"; readonly path: string /* template; relative joins the previous */ }
  | { readonly edit: "user"; readonly user: string /* template */ }
  | { readonly edit: "cmd"; readonly command: Command }
  /** `resetCmd`: Docker clears an inherited CMD when ENTRYPOINT is set in a stage without CMD. */
  | { readonly edit: "entrypoint"; readonly command: Command; readonly resetCmd: boolean }
  | { readonly edit: "expose"; readonly port: string /* template: 80, 80/tcp, 53/udp */ }
  | { readonly edit: "unexpose"; readonly port: string }
  | { readonly edit: "label"; readonly key: string; readonly value: string /* both templates */ }
  | { readonly edit: "unlabel"; readonly key: string }
  | { readonly edit: "volume"; readonly path: string /* template */ }
  | { readonly edit: "unvolume"; readonly path: string }
  | { readonly edit: "healthcheck"; readonly check: HealthConfig }
  | { readonly edit: "stopSignal"; readonly signal: string /* template */ }
  | { readonly edit: "shell"; readonly shell: readonly string[] }
  | { readonly edit: "onbuild"; readonly instruction: string }
  | { readonly edit: "author"; readonly author: string };

export type ConfigEditKind = ConfigEdit["edit"];
