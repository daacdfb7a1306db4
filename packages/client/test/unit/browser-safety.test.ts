// The SDK must run in browsers: nothing in its module graph may import a node: built-in (or
// @cairn/crypto's OpenSSL-backed "native" entry). Walks the graph from src/index.ts through the
// workspace packages it uses.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, "../../..");
const IMPORT =
  /(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s*["']([^"']+)["']/g;

function specifiers(file: string): string[] {
  const src = readFileSync(file, "utf8");
  return [...src.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

/** Resolves a workspace package import to its source file, or undefined for third-party packages. */
function resolveWorkspace(spec: string): string | undefined {
  const m = /^@cairn\/([^/]+)(\/.*)?$/.exec(spec);
  if (!m) return undefined;
  const pkg = JSON.parse(readFileSync(join(packages, m[1] as string, "package.json"), "utf8"));
  const target = pkg.exports[`.${m[2] ?? ""}`];
  return join(packages, m[1] as string, target);
}

function walk(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith(".")) pending.push(resolve(dirname(file), spec));
      else {
        const ws = resolveWorkspace(spec);
        if (ws) pending.push(ws);
        else external.add(spec);
      }
    }
  }
  return { files, external };
}

describe("browser safety", () => {
  it("imports no node: module anywhere in the client's module graph", () => {
    const { files, external } = walk(join(packages, "client/src/index.ts"));
    expect(files.size).toBeGreaterThan(5);
    for (const f of files) expect(existsSync(f), f).toBe(true);
    const nodeish = [...external].filter((s) => s.startsWith("node:"));
    expect(nodeish).toEqual([]);
    expect([...files].filter((f) => f.includes("/native/"))).toEqual([]);
    // Only browser-capable third-party code.
    for (const s of external) expect(s, s).toMatch(/^(@noble\/|msgpackr$)/);
  });

  it("has no node: import in any client source file", () => {
    const dir = join(packages, "client/src");
    const sources = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(0);
    for (const f of sources) {
      const text = readFileSync(join(dir, f), "utf8");
      expect(text, f).not.toMatch(/from\s+["']node:|import\(\s*["']node:|require\(/);
      expect(text, f).not.toMatch(/\b(process|Buffer)\./);
    }
  });
});
