import { describe, expect, it } from "vitest";
import { allowedHosts, allowHostName, corsOrigin, hostName } from "../../src/server/guard.js";
import { thrown } from "../helpers/thrown.js";

describe("the Host names azlon serve answers to", () => {
  it("reads a Host header's name, without its port, as a browser sends it; anything else is no name", () => {
    expect(hostName("LocalHost:8787")).toBe("localhost");
    expect(hostName("[::1]:8787")).toBe("[::1]");
    expect(hostName("localhost.")).toBe("localhost");
    for (const trick of ["evil.example@127.0.0.1", "127.0.0.1:8787/x", "127.0.0.1 evil", "::1", "", ":8787"])
      expect(hostName(trick), trick).toBeNull();
  });

  it("on loopback: the bound address and the local names, and --allow-host's; beyond it any name unless --allow-host lists them", () => {
    expect([...(allowedHosts("127.0.0.1", []) ?? [])].sort()).toEqual(["127.0.0.1", "[::1]", "localhost"]);
    expect(allowedHosts("::1", ["Devbox"])).toEqual(new Set(["[::1]", "localhost", "127.0.0.1", "devbox"]));
    expect(allowedHosts("0.0.0.0", [])).toBeNull();
    expect(allowedHosts("0.0.0.0", ["devbox"])?.has("evil.example")).toBe(false);
  });

  it("--allow-host takes a bare name and --cors one origin; a URL, a port or a wildcard is refused", () => {
    expect(allowHostName("[fd00::1]")).toBe("[fd00::1]");
    for (const bad of ["devbox:8787", "http://devbox", "devbox/x", "*"])
      expect(thrown(() => allowHostName(bad)).message, bad).toContain("--allow-host takes a host name");
    expect(corsOrigin("http://Page.test:3000/")).toBe("http://page.test:3000");
    for (const bad of ["*", "null", "http://page.test/app", "file:///x"])
      expect(thrown(() => corsOrigin(bad)).message, bad).toContain("--cors takes one origin");
  });
});
