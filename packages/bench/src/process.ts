// The node processes a macro benchmark drives: free ports, health, stopping, and their CPU and
// memory read from /proc.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, type Dirent, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLK_TCK } from "./machine.ts";
import type { NodeUsage } from "./target.ts";

export { freePort } from "@cairn/cluster";

/** The repository root, and the `cairn` launcher in it. */
export const ROOT = new URL("../../../", import.meta.url).pathname;
export const CAIRN = join(ROOT, "packages/cli/bin/cairn.js");

export interface StartNodeOptions {
  /** Run under `node --cpu-prof`, writing the profile here. */
  readonly cpuProfDir?: string;
  /** Passed to `cairn start --log-level`. */
  readonly logLevel?: string;
}

/** `cairn start --home HOME` as its own process, stdout and stderr appended to `logFile`. */
export function startCairnNode(home: string, logFile: string, o: StartNodeOptions = {}): ChildProcess {
  const args = [
    ...(o.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", o.cpuProfDir]),
    CAIRN,
    "start",
    "--home",
    home,
    ...(o.logLevel === undefined ? [] : ["--log-level", o.logLevel]),
  ];
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  return child;
}

export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

export interface ProcSample {
  /** CPU seconds (user + system) of the whole process since it started. */
  readonly cpuSec: number;
  readonly userSec: number;
  readonly sysSec: number;
  readonly rssMiB: number;
  readonly hwmMiB: number;
  readonly threads: number;
}

/** CPU and memory of a process from /proc/<pid>/stat and /proc/<pid>/status. */
export function procSample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = Number(f[11]) / CLK_TCK;
    const sys = Number(f[12]) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return {
      cpuSec: user + sys,
      userSec: user,
      sysSec: sys,
      rssMiB: kb("VmRSS") / 1024,
      hwmMiB: kb("VmHWM") / 1024,
      threads: Number(f[17]),
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds per thread name (main thread "node", the verify workers, libuv, V8 helpers...). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const count = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK;
        // The main thread is the one whose tid is the pid.
        const key = tid === String(pid) ? `${name} (main)` : name;
        out.set(key, (out.get(key) ?? 0) + cpu);
        count.set(key, (count.get(key) ?? 0) + 1);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process ended
  }
  // "WorkerThread x2": the name says how many threads share it.
  return new Map([...out].map(([k, v]) => [(count.get(k) ?? 1) > 1 ? `${k} x${count.get(k)}` : k, v]));
}
export async function waitHealthy(
  url: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the node exited (${child.exitCode ?? child.signalCode}):\n${readFileSync(logFile, "utf8")}`);
    }
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `the node did not answer /health within ${timeoutMs / 1000} s:\n${readFileSync(logFile, "utf8")}`,
      );
    await sleep(100);
  }
}

export async function stopNode(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
  const exited = new Promise<number | string | null>((r) => child.once("exit", (code, sig) => r(code ?? sig)));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Bytes a process caused to be read from and written to storage (/proc/PID/io), if readable. */
export function procIo(pid: number): { readBytes: number; writeBytes: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/io`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
    return { readBytes: field("read_bytes"), writeBytes: field("write_bytes") };
  } catch {
    return undefined;
  }
}

/** A node process's CPU, memory and disk I/O so far, from /proc (undefined once it is gone). */
export function processUsage(pid: number): NodeUsage | undefined {
  const s = procSample(pid);
  if (s === undefined) return undefined;
  const io = procIo(pid);
  return {
    cpuSec: s.cpuSec,
    rssBytes: s.rssMiB * 1024 * 1024,
    ...(io === undefined ? {} : { diskReadBytes: io.readBytes, diskWriteBytes: io.writeBytes }),
  };
}

/** Total size in bytes of the files under `dir` (0 if it does not exist). */
export function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          total += statSync(p).size;
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(dir);
  return total;
}

/** Waits for `p` at most `ms` milliseconds (the timer does not outlive the wait); true if `p` settled in time. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
