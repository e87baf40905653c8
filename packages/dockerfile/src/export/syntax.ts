/**
 * What the engine that will read the exported Dockerfile understands. `latest` is BuildKit's
 * stable Dockerfile syntax 1.x (heredocs, `COPY --link/--parents/--exclude`, `ADD --checksum`);
 * `docker-20.10` is the frontend built into Docker 20.10 (BuildKit 0.8): none of those.
 */
export type DockerfileSyntax = "latest" | "docker-20.10";

export interface SyntaxFeatures {
  readonly heredoc: boolean;
  readonly link: boolean;
  readonly parents: boolean;
  readonly exclude: boolean;
  readonly checksum: boolean;
  readonly keepGitDir: boolean;
  readonly unpack: boolean;
  readonly startInterval: boolean;
}

export function syntaxFeatures(syntax: DockerfileSyntax): SyntaxFeatures {
  const modern = syntax === "latest";
  return { heredoc: modern, link: modern, parents: modern, exclude: modern, checksum: modern, keepGitDir: modern, unpack: modern, startInterval: modern };
}
