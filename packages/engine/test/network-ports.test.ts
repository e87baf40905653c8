import { describe, expect, it } from "vitest";
import { parsePortMapping } from "../src/executor/network/index.ts";

describe("parsePortMapping", () => {
  it("reads docker's -p forms a user-mode stack can honour", () => {
    expect(parsePortMapping("8080:80")).toEqual([{ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, protocol: "tcp" }]);
    expect(parsePortMapping("127.0.0.1:5353:53/udp")).toEqual([{ hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp" }]);
    expect(parsePortMapping("8000-8001:9000-9001/tcp").map((p) => `${p.hostPort}>${p.containerPort}`)).toEqual(["8000>9000", "8001>9001"]);
  });

  it.each(["80", "127.0.0.1::80", "[::1]:80:80", "a:b", "0:80", "70000:80", "80:80/sctp", "1-3:1-2", "1:2:3:4", "localhost:80:80"])(
    "refuses %s with STRATA_NET_BAD_PORT",
    (spec) => {
      expect(() => parsePortMapping(spec)).toThrow(expect.objectContaining({ code: "STRATA_NET_BAD_PORT" }));
    },
  );
});
