import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConsoleAssets } from "../../src/assets.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dist(): string {
  const d = mkdtempSync(join(tmpdir(), "cairn-console-"));
  dirs.push(d);
  writeFileSync(join(d, "index.html"), "<head><!--cairn-settings--></head>");
  writeFileSync(join(d, "console.js"), "x");
  writeFileSync(join(d, "console.css"), "y");
  writeFileSync(join(d, "notes.txt"), "not served");
  return d;
}

describe("loadConsoleAssets", () => {
  it("loads the built files with their content types and tells the page the cluster's control endpoint", async () => {
    const a = await loadConsoleAssets({ clusterControl: 'http://127.0.0.1:26699/"><script>' }, dist());
    expect([...a.files.keys()].sort()).toEqual(["console.css", "console.js", "index.html"]);
    expect(a.files.get("console.js")?.type).toBe("text/javascript; charset=utf-8");
    const html = new TextDecoder().decode(a.files.get("index.html")?.body);
    // Escaped: a setting cannot break out of its attribute.
    expect(html).toBe(
      '<head><meta name="cairn-cluster-control" content="http://127.0.0.1:26699/&quot;>&lt;script>"></head>',
    );
    const plain = await loadConsoleAssets({}, dist());
    expect(new TextDecoder().decode(plain.files.get("index.html")?.body)).toBe("<head></head>");
  });

  it("says how to build the console when there is no build", async () => {
    const a = await loadConsoleAssets({}, join(tmpdir(), "cairn-no-such-console"));
    expect(a.files.size).toBe(0);
    expect(a.missing).toContain("npm run build:console");
  });
});
