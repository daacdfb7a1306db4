// The console's built files (dist/, made by build.mjs at `npm install`), loaded by a node at start
// and served from memory at GET /console. Node-side only; the page itself is src/app.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConsoleAssets } from "@cairn/api";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** What the page learns from the node that serves it (meta tags in index.html). */
export interface ConsoleSettings {
  /** The local cluster supervisor's control endpoint, when the node runs under `cairn cluster`. */
  readonly clusterControl?: string;
}

const escapeAttribute = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** Reads dist/ into memory; with no build, an empty set and the reason (GET /console answers 404 with it). */
export async function loadConsoleAssets(settings: ConsoleSettings = {}, dir = DIST): Promise<ConsoleAssets> {
  if (!existsSync(join(dir, "index.html"))) {
    return {
      files: new Map(),
      missing: "the console is not built: run `npm install` or `npm run build:console` in the repository",
    };
  }
  const files = new Map<string, { type: string; body: Uint8Array }>();
  for (const name of await readdir(dir)) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    let body: Uint8Array = await readFile(join(dir, name));
    if (name === "index.html") {
      const meta =
        settings.clusterControl === undefined
          ? ""
          : `<meta name="cairn-cluster-control" content="${escapeAttribute(settings.clusterControl)}">`;
      body = new TextEncoder().encode(new TextDecoder().decode(body).replace("<!--cairn-settings-->", meta));
    }
    files.set(name, { type, body });
  }
  return { files };
}
