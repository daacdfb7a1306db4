// A Docker engine for end-to-end tests: installed from Debian's packages when missing (docker.io,
// and docker-compose when neither Compose works), started when it does not answer. Throws, with the
// reason, when the engine cannot be had: a test that needs Docker fails rather than skips.
import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Ran {
  readonly code: number;
  readonly out: string;
}

/** Runs a command; resolves with its exit code (127 when it does not exist) and its output. */
export function sh(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
        const code = e === null ? 0 : typeof e.code === "number" ? e.code : e.code === "ENOENT" ? 127 : 1;
        const note = e?.killed ? `\n(killed after ${timeoutMs / 1000} s)` : "";
        resolve({ code, out: `${stdout}${stderr}${note}` });
      },
    );
  });
}

const tail = (s: string, n = 15) => s.trim().split("\n").slice(-n).join("\n");

async function onPath(cmd: string): Promise<boolean> {
  return (await sh("sh", ["-c", `command -v ${cmd}`])).code === 0;
}

async function engineAnswers(): Promise<boolean> {
  const r = await sh("docker", ["version", "--format", "{{.Server.Version}}"], 15_000);
  return r.code === 0 && r.out.trim() !== "";
}

async function composeWorks(): Promise<boolean> {
  return (
    (await sh("docker", ["compose", "version"])).code === 0 || (await sh("docker-compose", ["version"])).code === 0
  );
}

/**
 * Makes sure `docker` answers with a running engine and a Compose is installed; returns what it
 * had to do ("installed docker.io", "started dockerd", ...). Bounded: apt-get update 60 s, install
 * 120 s, engine start 45 s.
 */
export async function ensureDockerEngine(log: (line: string) => void = () => {}): Promise<string[]> {
  const did: string[] = [];
  const needEngine = !(await onPath("dockerd")) || !(await onPath("docker"));
  const needCompose = !(await composeWorks());
  if (needEngine || needCompose) {
    const pkgs = [...(needEngine ? ["docker.io"] : []), ...(needCompose ? ["docker-compose"] : [])];
    if (process.getuid?.() !== 0) {
      throw new Error(`Docker is not installed (${pkgs.join(", ")} missing) and this is not root: cannot install it`);
    }
    log(`installing ${pkgs.join(" ")} from Debian's packages`);
    // Another test (the HTML report's) may be installing Chromium at the same moment: wait for
    // apt's and dpkg's locks instead of failing on them.
    const lock = ["-o", "DPkg::Lock::Timeout=90"];
    const update = await sh("apt-get", [...lock, "update", "-qq"], 120_000);
    if (update.code !== 0) throw new Error(`apt-get update failed:\n${tail(update.out)}`);
    const install = await sh("apt-get", [...lock, "install", "-y", "-qq", ...pkgs], 180_000);
    if (install.code !== 0) throw new Error(`apt-get install ${pkgs.join(" ")} failed:\n${tail(install.out)}`);
    did.push(`installed ${pkgs.join(", ")}`);
  }
  if (!(await engineAnswers())) {
    if (process.getuid?.() !== 0) {
      throw new Error("the Docker engine does not answer and this is not root: start it (systemctl start docker)");
    }
    const logFile = join(tmpdir(), "cairn-e2e-dockerd.log");
    log(`starting dockerd (log: ${logFile})`);
    const fd = openSync(logFile, "w");
    // Detached: the engine outlives this test run, so later runs find it up (and images cached).
    const child = spawn("dockerd", [], { detached: true, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    let exited: string | undefined;
    child.on("error", (e) => {
      exited = e.message;
    });
    child.on("exit", (code, signal) => {
      exited = `dockerd exited (${signal ?? code})`;
    });
    child.unref();
    const deadline = Date.now() + 45_000;
    while (!(await engineAnswers())) {
      if (exited !== undefined || Date.now() > deadline) {
        const why = exited ?? "it did not answer within 45 s";
        const logText = existsSync(logFile) ? tail(readFileSync(logFile, "utf8"), 20) : "";
        throw new Error(`the Docker engine cannot start on this machine: ${why}\n${logText}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    did.push("started dockerd");
  }
  return did;
}

/** The IPv4 subnets of the engine's existing networks, to pick one that does not overlap. */
export async function usedSubnets(): Promise<string[]> {
  const ids = (await sh("docker", ["network", "ls", "-q"])).out.split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const r = await sh("docker", ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", ...ids]);
  return r.out.split(/\s+/).filter((s) => s.includes("/"));
}
