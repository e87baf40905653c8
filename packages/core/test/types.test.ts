// Type-level tests of the public API. `pnpm test` runs tsc over this file first: every
// `@ts-expect-error` below must be an error, or the type check fails. The calls sit inside
// functions that never run, since several would throw at run time.
import { describe, expectTypeOf, test } from "vitest";
import { arg, cache, defineArgs, from, scratch, sh, type Arg, type Image, type Port } from "../src/index.ts";

describe("public API types", () => {
  test("builders return Image", () => {
    expectTypeOf(from("node:22")).toEqualTypeOf<Image>();
    expectTypeOf(scratch().copy("a", "/a").run("x").env({ A: "1" })).toEqualTypeOf<Image>();
    expectTypeOf(from("x").with((i) => i.user("node"))).toEqualTypeOf<Image>();
  });

  test("build args carry the type of their default", () => {
    expectTypeOf(arg("A")).toEqualTypeOf<Arg<string>>();
    expectTypeOf(arg("B", 3000)).toEqualTypeOf<Arg<number>>();
    expectTypeOf(arg("C", true)).toEqualTypeOf<Arg<boolean>>();
    const args = defineArgs({ NODE: "22", PORT: 8080, DEBUG: false });
    expectTypeOf(args.PORT).toEqualTypeOf<Arg<number>>();
    expectTypeOf(args.NODE).toEqualTypeOf<Arg<string>>();
  });

  test("ports, commands, platforms, durations are checked by the compiler", () => {
    expectTypeOf<8080>().toExtend<Port>();
    expectTypeOf<"53/udp">().toExtend<Port>();
    expectTypeOf<Arg<number>>().toExtend<Port>();
    const never = () => {
      const img = from("x");
      // @ts-expect-error: a port is a number or "<n>/tcp|udp|sctp"
      img.expose("http");
      // @ts-expect-error: unknown protocol
      img.expose("80/xyz");
      // @ts-expect-error: cmd takes string[] (or sh("…") for shell form)
      img.cmd("node server.js");
      img.cmd(sh("node server.js"));
      // @ts-expect-error: entrypoint takes string[]
      img.entrypoint("app");
      // @ts-expect-error: platforms are os/arch strings
      from("x", { platform: "linux/amd46" });
      from("x", { platform: "linux/arm64" });
      // @ts-expect-error: durations are Go-style strings like "30s"
      img.healthcheck(["true"], { interval: 30 });
      // @ts-expect-error: cache sharing is shared | private | locked
      img.run("x", { mounts: [cache("/c", { sharing: "exclusive" })] });
      // @ts-expect-error: network is default | none | host
      img.run("x", { network: "bridge" });
      // @ts-expect-error: expose needs at least one port
      img.expose();
      img.expose(1, 80, 65535, "8080/tcp", "8000-8010/udp", arg("PORT", 8080));
      const some: number = 8080;
      img.expose(some);
      // @ts-expect-error: 99999 is not a port (1-65535)
      img.expose(99999);
      // @ts-expect-error: 0 is not a port
      img.expose(0);
      // @ts-expect-error: 70000 is not a port
      img.expose("70000/tcp");
      // @ts-expect-error: a range must ascend
      img.expose("9000-8000");
      // @ts-expect-error: every port of the call is checked
      img.expose(80, 65536);
      // @ts-expect-error: withoutExpose checks the same way
      img.withoutExpose(99999);
      img.stopSignal("SIGTERM").stopSignal("TERM").stopSignal("SIGRTMIN+3").stopSignal(9);
      // @ts-expect-error: FOO is not a signal
      img.stopSignal("FOO");
      // @ts-expect-error: SIGFOO is not a signal
      img.stopSignal("SIGFOO");
      // @ts-expect-error: a stage name as a string is not a copy source option
      img.copy("a", "/a", { from: "build" });
    };
    void never;
  });
});
