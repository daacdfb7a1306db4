// Starting real `cairn` processes for end-to-end tests, the way a user starts them.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { freePort } from "@cairn/cluster";

export const REPO = new URL("../../", import.meta.url).pathname;
export const CAIRN = join(REPO, "packages/cli/bin/cairn.js");

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cairn-${prefix}-`));
}

/** A free TCP port on loopback (the OS picks it; it is released before use). */

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cairn ARGS...` to completion with the same Node that runs the tests. */
export function runCairn(args: string[], timeoutMs = 30_000, cwd = REPO): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface NodeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (clean stop), and wait for the exit; returns the exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  /** API host to listen on and to call (default 127.0.0.1). */
  readonly host?: string;
  /** Run the node inside this network namespace (`ip netns exec`, which execs: the pid is the node's). */
  readonly netns?: string;
  /** More environment for the node (e.g. LD_PRELOAD of libfaketime). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the node may take to answer /health (default 30 s; a node catching up starts its API after). */
  readonly healthyWithinMs?: number;
}

/** Starts `cairn start --home HOME --api-port PORT` and waits until its API answers /health. */
export async function startNodeProcess(
  home: string,
  port: number,
  extra: string[] = [],
  opts: StartOptions = {},
): Promise<NodeProcess> {
  const host = opts.host ?? "127.0.0.1";
  const args = [CAIRN, "start", "--home", home, "--api-port", String(port), "--api-host", host];
  args.push("--log-level", "warn", ...extra);
  const [cmd, argv] =
    opts.netns === undefined
      ? [process.execPath, args]
      : ["ip", ["netns", "exec", opts.netns, process.execPath, ...args]];
  const child = spawn(cmd, argv, {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }),
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://${host}:${port}`;
  const within = opts.healthyWithinMs ?? 30_000;
  const deadline = Date.now() + within;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`node did not become healthy in ${within / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
