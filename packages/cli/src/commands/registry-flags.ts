import type { OptionSpec } from "../argv.ts";

/** The flags every command that talks to a registry takes, spelled and explained once. */
export const INSECURE_REGISTRY: OptionSpec = {
  name: "insecure-registry",
  type: "list",
  placeholder: "HOST",
  description: "allow plain HTTP for this registry (loopback is always allowed)",
};

/** `--registry-mirror`, whose help names what the command does through the mirror. */
export function registryMirror(verb: "pull" | "resolve"): OptionSpec {
  return {
    name: "registry-mirror",
    type: "list",
    placeholder: "HOST",
    description: `${verb} docker.io images through this mirror first (ORIGIN=HOST for another registry)`,
  };
}
