// Builds the console (src/app) into dist/: one bundled script, one stylesheet and the page, which
// every node serves at /console. Run by `npm install` (the root postinstall) and `npm run build:console`.
// Plain JavaScript so that it runs on whatever Node npm itself runs on.
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, "src", "app");
const dist = join(here, "dist");
const tmp = join(here, `dist.tmp-${process.pid}`);

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  // `npm install --omit=dev` (a production image built elsewhere): keep whatever dist/ there is.
  console.warn("console: esbuild is not installed; the console is not rebuilt");
  process.exit(0);
}

await rm(tmp, { recursive: true, force: true });
await mkdir(tmp, { recursive: true });
const started = performance.now();
await esbuild.build({
  entryPoints: { console: join(app, "main.tsx") },
  outdir: tmp,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["chrome110", "firefox115", "safari16"],
  minify: true,
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
  // @cairn/crypto reaches Node's crypto only through process.getBuiltinModule, guarded.
  define: { "process.env.NODE_ENV": '"production"' },
});
await copyFile(join(app, "index.html"), join(tmp, "index.html"));
await copyFile(join(app, "styles.css"), join(tmp, "console.css"));
await rm(dist, { recursive: true, force: true });
await rename(tmp, dist);
console.log(`console: built packages/console/dist in ${Math.round(performance.now() - started)} ms`);
