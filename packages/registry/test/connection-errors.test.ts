import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/index.ts";

describe("connection failures no retry can mend", () => {
  let server: Server;
  let host: string;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Something that is not an HTTP server at all answers on the registry's port.
    server = createServer((s) => {
      sockets.add(s);
      s.end("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const a = server.address();
    host = `127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it("become a coded error naming the host, not a raw parser error", async () => {
    const err = await new Registry({ retry: { retries: 1, baseDelayMs: 1 } }).resolve(`${host}/x/y:1`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STRATA_REGISTRY_UNREACHABLE" });
    expect((err as Error).message).toContain(`cannot reach ${host}`);
  });
});
