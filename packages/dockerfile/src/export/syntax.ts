/**
 * What the engine that will read the exported Dockerfile understands:
 * - `latest`: BuildKit's stable Dockerfile syntax 1.x (heredocs, `COPY --link/--parents/--exclude`,
 *   `ADD --checksum`, `RUN --network/--security`, …);
 * - `dockerfile-1.4`: the frontend built into BuildKit 0.10–0.12 (Docker 23/24, buildx builders of
 *   that age): heredocs, `--link`, `RUN --network`; not the later flags;
 * - `docker-20.10`: the frontend built into Docker 20.10 (BuildKit 0.8, Dockerfile 1.2): `RUN
 *   --mount` and octal `--chmod`, none of the above. It also ignores a symbolic `--chmod` and
 *   the setuid/setgid/sticky bits of an octal one silently, keeps an archive's owners on `ADD
 *   --chown`, and rejects `tmpfs` sizes and secrets as env vars, so those are refused too (the
 *   archive case by the engine, which can see whether a source is an archive).
 */
export type DockerfileSyntax = "latest" | "dockerfile-1.4" | "docker-20.10";

export const DOCKERFILE_SYNTAXES: readonly DockerfileSyntax[] = ["latest", "dockerfile-1.4", "docker-20.10"];

export interface SyntaxFeatures {
  readonly heredoc: boolean;
  readonly link: boolean;
  readonly parents: boolean;
  readonly exclude: boolean;
  readonly checksum: boolean;
  readonly keepGitDir: boolean;
  readonly unpack: boolean;
  readonly startInterval: boolean;
  /** `RUN --network=none|host`. */
  readonly network: boolean;
  /** `RUN --security=insecure`. */
  readonly security: boolean;
  /** `--mount=type=tmpfs,size=…`. */
  readonly tmpfsSize: boolean;
  /** `--mount=type=secret,env=…`. */
  readonly secretEnv: boolean;
  /** `--chmod=u+x` (symbolic modes; octal ones are understood from Dockerfile 1.2 on). */
  readonly symbolicChmod: boolean;
  /** `--chmod=4755`: docker 20.10 drops setuid, setgid and sticky bits silently. */
  readonly chmodSpecialBits: boolean;
  /** `ADD --chown` applies to the files of an archive it unpacks (docker 20.10 keeps the archive's owners). */
  readonly addChownArchives: boolean;
}

export function syntaxFeatures(syntax: DockerfileSyntax): SyntaxFeatures {
  const modern = syntax === "latest";
  const v14 = syntax !== "docker-20.10";
  return {
    heredoc: v14,
    link: v14,
    parents: modern,
    exclude: modern,
    checksum: modern,
    keepGitDir: modern,
    unpack: modern,
    startInterval: modern,
    network: v14,
    security: modern,
    tmpfsSize: v14,
    secretEnv: modern,
    symbolicChmod: modern,
    chmodSpecialBits: v14,
    addChownArchives: v14,
  };
}
