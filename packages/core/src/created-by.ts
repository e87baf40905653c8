import { commandText, formatDuration, type Command, type HealthConfig, type Mount } from "@strata/graph";

/**
 * History text for each step, written like the Dockerfile instruction it corresponds to so
 * `docker history` reads naturally. Templates stay symbolic (`ENV A=$VERSION`): build arg
 * values, which may be secrets passed the wrong way, never reach the history.
 */
export const createdBy = {
  run(command: Command, mounts: readonly Mount[]): string {
    const flags = mounts.map((m) => `--mount=type=${m.type}${"target" in m && m.target ? `,target=${m.target}` : ""}${m.type === "secret" ? `,id=${m.id}` : ""} `).join("");
    return `RUN ${flags}${commandText(command)}`;
  },
  copy(instruction: "COPY" | "ADD", src: readonly string[], dest: string): string {
    return `${instruction} ${[...src, dest].join(" ")}`;
  },
  keyValues(instruction: string, pairs: readonly (readonly [string, string])[]): string {
    return `${instruction} ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`;
  },
  list(instruction: string, items: readonly string[]): string {
    return `${instruction} ${items.join(" ")}`;
  },
  command(instruction: "CMD" | "ENTRYPOINT", c: Command): string {
    return `${instruction} ${commandText(c)}`;
  },
  healthcheck(h: HealthConfig): string {
    if (h.Test[0] === "NONE") return "HEALTHCHECK NONE";
    const opts = [
      h.Interval ? `--interval=${formatDuration(h.Interval)} ` : "",
      h.Timeout ? `--timeout=${formatDuration(h.Timeout)} ` : "",
      h.StartPeriod ? `--start-period=${formatDuration(h.StartPeriod)} ` : "",
      h.StartInterval ? `--start-interval=${formatDuration(h.StartInterval)} ` : "",
      h.Retries ? `--retries=${h.Retries} ` : "",
    ].join("");
    const test = h.Test[0] === "CMD-SHELL" ? h.Test[1] : JSON.stringify(h.Test.slice(1));
    return `HEALTHCHECK ${opts}CMD ${test}`;
  },
};
