import type { CommandSpec, ParsedArgs } from "../argv.ts";
import { usageError } from "../argv.ts";
import type { CliContext } from "../context.ts";
import { registryOptions } from "./build-resolvers.ts";
import { INSECURE_REGISTRY } from "./registry-flags.ts";

export const spec: CommandSpec = {
  name: "login",
  summary: "Log in to a registry (verified, then stored in Docker's config.json).",
  usage: "strata login [REGISTRY] -u USER --password-stdin",
  description:
    "Checks the credentials against REGISTRY (default Docker Hub) and stores them as `docker login`\n" +
    "does: in the registry's credential helper if config.json names one, else in config.json\n" +
    "($DOCKER_CONFIG, default ~/.docker). Docker, skopeo and Strata then share them.",
  positionals: { min: 0, max: 1 },
  options: [
    { name: "username", short: "u", type: "string", placeholder: "USER", description: "the user name" },
    { name: "password-stdin", type: "boolean", description: "read the password (or access token) from standard input" },
    { name: "password", short: "p", type: "string", placeholder: "PASSWORD", description: "the password (visible in the process list and shell history: prefer --password-stdin)" },
    INSECURE_REGISTRY,
  ],
  examples: ["echo \"$TOKEN\" | strata login ghcr.io -u me --password-stdin", "strata login localhost:5000 -u ci --password-stdin < pw.txt"],
};

export async function run(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const o = args.options;
  const registry = args.positionals[0] ?? "docker.io";
  const username = o.username as string | undefined;
  if (!username) throw usageError("a user name is needed (-u USER)", spec);
  if (o["password-stdin"] && o.password !== undefined) throw usageError("--password and --password-stdin exclude each other", spec);
  let password: string;
  if (o["password-stdin"]) password = (await ctx.stdin()).replace(/[\r\n]+$/, "");
  else if (o.password !== undefined) {
    password = o.password as string;
    ctx.stderr("warning: --password is visible to other users of this machine; use --password-stdin\n");
  } else throw usageError("give the password on standard input with --password-stdin", spec);
  if (!password) throw usageError("the password is empty", spec);
  const { login } = await import("@strata/registry");
  const list = (k: string) => (o[k] as string[] | undefined) ?? [];
  const { credentials: _c, ...opts } = registryOptions(ctx, list("insecure-registry"));
  const r = await login(registry, username, password, opts);
  ctx.stderr(`credentials for ${r.registry} stored in ${r.storedIn}\n`);
  ctx.stdout("Login Succeeded\n");
  return 0;
}
