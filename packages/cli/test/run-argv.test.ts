import { describe, expect, it } from "vitest";
import { rewriteArgv } from "../src/commands/run.ts";

describe("strata run's command line, as docker run reads it", () => {
  it("ends the flags at IMAGE: the rest is the command", () => {
    expect(rewriteArgv(["-e", "A=1", "img", "ls", "-l"])).toEqual(["-e", "A=1", "img", "--", "ls", "-l"]);
    expect(rewriteArgv(["img", "sh", "-c", "echo -- x"])).toEqual(["img", "--", "sh", "-c", "echo -- x"]);
    expect(rewriteArgv(["img", "echo", "--", "x"])).toEqual(["img", "--", "echo", "--", "x"]);
    expect(rewriteArgv(["img"])).toEqual(["img"]);
    expect(rewriteArgv(["--name", "web", "-p", "8080:80", "img"])).toEqual(["--name", "web", "-p", "8080:80", "img"]);
    expect(rewriteArgv(["--network=none", "img", "true"])).toEqual(["--network=none", "img", "--", "true"]);
  });
  it("splits clustered short booleans, with a value flag last", () => {
    expect(rewriteArgv(["-it", "img", "sh"])).toEqual(["-i", "-t", "img", "--", "sh"]);
    expect(rewriteArgv(["-ite", "A=1", "img"])).toEqual(["-i", "-t", "-e", "A=1", "img"]);
    expect(rewriteArgv(["-eA=1", "img"])).toEqual(["-eA=1", "img"]);
  });
  it("keeps the older form: flags after IMAGE up to a --", () => {
    expect(rewriteArgv(["img", "-e", "A=1", "--", "sh"])).toEqual(["img", "-e", "A=1", "--", "sh"]);
    expect(rewriteArgv(["img", "--", "sh"])).toEqual(["img", "--", "sh"]);
  });
});
