import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * An HTTP proxy between a client and a registry that misbehaves on demand: answers a status
 * instead of forwarding, cuts the connection after N body bytes, or flips a byte in a body.
 * It forwards the Host header unchanged, so the registry's Location headers point back
 * through the proxy.
 */
export type Fault =
  | { readonly kind: "status"; readonly status: number; readonly headers?: Readonly<Record<string, string>> }
  /** Forward the body one byte every `intervalMs` (a slow-loris registry: never idle, never done). */
  | { readonly kind: "trickle"; readonly intervalMs: number }
  /** Announce and send only the first `bytes` of the body, then end cleanly (a blob shorter than its descriptor). */
  | { readonly kind: "truncate"; readonly bytes: number }
  /** Send `bytes` more than the body (a blob longer than its descriptor); `announce`: say so in Content-Length. */
  | { readonly kind: "extend"; readonly bytes: number; readonly announce: boolean }
  | { readonly kind: "drop-after"; readonly bytes: number }
  | { readonly kind: "corrupt"; readonly offset: number }
  /** Send `bytes` of the body, then go silent with the connection open (a hung server). */
  | { readonly kind: "stall-after"; readonly bytes: number }
  /** Forward without the Range header, as a server that does not support ranges would answer. */
  | { readonly kind: "ignore-range" }
  /** Answer 307 to `location` (plus the request path), as registries backed by object storage do. */
  | { readonly kind: "redirect"; readonly location: string };

export interface FaultRule {
  readonly method?: string;
  /** Matches the request path (string: substring). */
  readonly path: RegExp | string;
  readonly fault: Fault;
  /** How many matching requests get the fault. Default: all. */
  times?: number;
}

export interface ProxyLogEntry {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly status: number;
  readonly fault?: Fault["kind"];
}

export interface FaultProxy {
  readonly url: string;
  readonly host: string;
  readonly log: ProxyLogEntry[];
  /** TCP connections accepted so far (a client that opens no socket leaves it unchanged). */
  readonly connections: number;
  rules: FaultRule[];
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const log: ProxyLogEntry[] = [];
  const proxy: { rules: FaultRule[] } = { rules: [] };
  const stalled = new Set<ServerResponse>();

  const pick = (req: IncomingMessage): Fault | undefined => {
    for (const r of proxy.rules) {
      if (r.method && r.method !== req.method) continue;
      const path = req.url ?? "";
      if (typeof r.path === "string" ? !path.includes(r.path) : !r.path.test(path)) continue;
      if (r.times !== undefined) {
        if (r.times <= 0) continue;
        r.times--;
      }
      return r.fault;
    }
    return undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const fault = pick(req);
    const entry = { method: req.method ?? "GET", path: req.url ?? "", ...(req.headers.range ? { range: req.headers.range } : {}) };
    if (fault?.kind === "status") {
      req.resume();
      log.push({ ...entry, status: fault.status, fault: "status" });
      res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers }).end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: "injected fault" }] }));
      return;
    }
    if (fault?.kind === "redirect") {
      req.resume();
      log.push({ ...entry, status: 307, fault: "redirect" });
      res.writeHead(307, { location: fault.location + (req.url ?? "") }).end();
      return;
    }
    const headers = { ...req.headers };
    if (fault?.kind === "ignore-range") delete headers.range;
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (ures) => {
      log.push({ ...entry, status: ures.statusCode ?? 0, ...(fault ? { fault: fault.kind } : {}) });
      if (fault?.kind === "trickle" || fault?.kind === "truncate" || fault?.kind === "extend") {
        reshape(fault, ures, res);
        return;
      }
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      let sent = 0;
      ures.on("data", (chunk: Buffer) => {
        let c = chunk;
        if (fault?.kind === "corrupt" && fault.offset >= sent && fault.offset < sent + c.length) {
          c = Buffer.from(c);
          c[fault.offset - sent] = (c[fault.offset - sent] ?? 0) ^ 0xff;
        }
        if (fault?.kind === "drop-after" && sent + c.length >= fault.bytes) {
          res.write(c.subarray(0, Math.max(0, fault.bytes - sent)));
          sent = fault.bytes;
          ures.destroy();
          // Give the partial write a moment to reach the client, then cut the connection.
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        if (fault?.kind === "stall-after" && sent + c.length >= fault.bytes) {
          res.write(c.subarray(0, Math.max(0, fault.bytes - sent)));
          sent = fault.bytes;
          ures.destroy();
          stalled.add(res);
          return;
        }
        sent += c.length;
        res.write(c);
      });
      ures.on("end", () => {
        if (!stalled.has(res)) res.end();
      });
      ures.on("error", () => {
        if (!stalled.has(res)) res.socket?.destroy();
      });
    });
    up.on("error", () => res.socket?.destroy());
    req.pipe(up);
  };

  /** Faults that rewrite the whole body: read it from upstream first, then send the altered one. */
  const reshape = (fault: Extract<Fault, { kind: "trickle" | "truncate" | "extend" }>, ures: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    ures.on("data", (c: Buffer) => chunks.push(c));
    ures.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...ures.headers };
      if (fault.kind === "truncate") {
        headers["content-length"] = String(Math.min(fault.bytes, body.length));
        res.writeHead(ures.statusCode ?? 502, headers).end(body.subarray(0, fault.bytes));
      } else if (fault.kind === "extend") {
        const more = Buffer.concat([body, Buffer.alloc(fault.bytes, 0x41)]);
        if (fault.announce) headers["content-length"] = String(more.length);
        else delete headers["content-length"];
        res.writeHead(ures.statusCode ?? 502, headers).end(more);
      } else {
        res.writeHead(ures.statusCode ?? 502, headers);
        let i = 0;
        const timer = setInterval(() => {
          if (i >= body.length || res.destroyed) {
            clearInterval(timer);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body.subarray(i, i + 1));
          i++;
        }, fault.intervalMs);
        res.on("close", () => clearInterval(timer));
      }
    });
  };

  const server: Server = createServer(handle);
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    log,
    get connections() {
      return connections;
    },
    get rules() {
      return proxy.rules;
    },
    set rules(r: FaultRule[]) {
      proxy.rules = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
