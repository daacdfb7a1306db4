// What machine a benchmark ran on, recorded next to its numbers so runs can be compared.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, hash, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";

export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical cores the process may use (os.availableParallelism). */
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** ISO 8601 time the run started. */
  readonly date: string;
  /** Commit of the work tree (with "+dirty" when it has changes), if git is available. */
  readonly commit: string | undefined;
  /** The machine's speed when the run started (see calibrate). */
  readonly calibration: Calibration;
}

export function cpuModel(): string {
  // /proc/cpuinfo is what `lscpu` reads; os.cpus() gives the same model string elsewhere.
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1] !== undefined) return m[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

export function gitCommit(): string | undefined {
  try {
    const cwd = new URL("../../../", import.meta.url).pathname;
    const git = (...args: string[]) =>
      execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const head = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain") !== "";
    return dirty ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    commit: gitCommit(),
    calibration: calibrate(),
  };
}

export function describeMachine(m: MachineInfo): string {
  const c = m.calibration;
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}${
    m.commit === undefined ? "" : `, commit ${m.commit}`
  }; calibration: Ed25519 verify ${c.ed25519VerifyUs} µs, SHA-256(256 B) ${c.sha256Us} µs`;
}

/** Jiffies per second of /proc times (USER_HZ); 100 on every mainstream Linux. */
export const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { stdio: ["ignore", "pipe", "ignore"] }).toString());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** Busy and total CPU seconds of the whole machine since boot (all cores, /proc/stat), if readable. */
export function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] as string;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: busy / CLK_TCK, total: (busy + idle + iowait) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/** The 1-minute load average (0 where unknown). */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return 0;
  }
}

/**
 * Measures how much of the machine other processes used while a benchmark ran: machine busy time
 * minus the CPU time of the processes being measured. On a shared machine this says how far the
 * numbers can be trusted.
 */
export class LoadMonitor {
  readonly #start = machineCpuSeconds();
  readonly #wallStart = performance.now();
  readonly loadAvgAtStart = loadAverage();

  /** `ownCpuSeconds`: CPU used by the benchmark's own processes over the same interval. */
  stop(ownCpuSeconds: number): ContentionReport {
    const end = machineCpuSeconds();
    const wall = (performance.now() - this.#wallStart) / 1000;
    const busy = this.#start === undefined || end === undefined ? Number.NaN : end.busy - this.#start.busy;
    return {
      wallSec: wall,
      machineBusyCores: busy / wall,
      ownCores: ownCpuSeconds / wall,
      otherCores: Math.max(0, (busy - ownCpuSeconds) / wall),
      loadAvgAtStart: this.loadAvgAtStart,
      loadAvgAtEnd: loadAverage(),
    };
  }
}

export interface ContentionReport {
  readonly wallSec: number;
  /** Average cores busy on the whole machine. */
  readonly machineBusyCores: number;
  /** Average cores used by the benchmark's own processes. */
  readonly ownCores: number;
  /** Average cores used by everything else: near 0 on a quiet machine. */
  readonly otherCores: number;
  readonly loadAvgAtStart: number;
  readonly loadAvgAtEnd: number;
}

export function describeContention(c: ContentionReport): string {
  const f = (n: number) => n.toFixed(2);
  return `machine busy ${f(c.machineBusyCores)} cores on average: this benchmark ${f(c.ownCores)}, other processes ${f(
    c.otherCores,
  )} (load average ${f(c.loadAvgAtStart)} at start)`;
}

export interface Calibration {
  /** Mean µs of one OpenSSL Ed25519 verification (node:crypto, key object reused). */
  readonly ed25519VerifyUs: number;
  /** Mean µs of one node:crypto SHA-256 of 256 bytes. */
  readonly sha256Us: number;
}

/**
 * A half-second measure of this machine's speed right now. Shared and virtual machines drift by
 * tens of percent between runs; comparing two runs, divide by these first.
 */
export function calibrate(): Calibration {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const msg = Buffer.alloc(180, 7);
  const sig = nodeSign(null, msg, privateKey);
  const time = (n: number, f: () => void) => {
    for (let i = 0; i < Math.max(10, n / 10); i++) f();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    return ((performance.now() - t0) * 1000) / n;
  };
  const data = Buffer.alloc(256, 1);
  return {
    ed25519VerifyUs: Math.round(time(1500, () => nodeVerify(null, msg, publicKey, sig)) * 10) / 10,
    sha256Us: Math.round(time(50_000, () => hash("sha256", data)) * 100) / 100,
  };
}

/**
 * Waits until the machine has been idle (under `threshold` cores busy) for two consecutive 2-second
 * windows, at most `maxMs`. For shared machines; returns false if it never got quiet.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.15, log?: (s: string) => void): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  let quiet = 0;
  let told = false;
  for (;;) {
    const a = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, 2000));
    const b = machineCpuSeconds();
    if (a === undefined || b === undefined) return true;
    const cores = (b.busy - a.busy) / 2;
    quiet = cores < threshold ? quiet + 1 : 0;
    if (quiet >= 2) return true;
    if (performance.now() > deadline) {
      log?.(`the machine is still busy (${cores.toFixed(2)} cores); going ahead`);
      return false;
    }
    if (!told && quiet === 0) {
      log?.(`waiting for the machine to be idle (${cores.toFixed(2)} cores busy)...`);
      told = true;
    }
  }
}

/**
 * Native (OpenSSL) Ed25519 verifications per second on `threads` cores at once (default: every core
 * this process may use), each thread verifying a 180-byte message for `ms` milliseconds with a
 * reused key object, as a node's verify workers do. This is the machine's signature-verification
 * bound: a BFT cluster of N validators on it verifies every transaction N times, so it cannot commit
 * more than verifiesPerSec / N transactions per second.
 */
export async function measureVerifiesPerSec(ms = 1000, threads = availableParallelism()): Promise<number> {
  const { Worker } = await import("node:worker_threads");
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { generateKeyPairSync, sign, verify } = require("node:crypto");
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const msg = Buffer.alloc(180, 7);
    const sig = sign(null, msg, privateKey);
    for (let i = 0; i < 200; i++) verify(null, msg, publicKey, sig);
    const end = Date.now() + workerData.ms;
    let n = 0;
    while (Date.now() < end) {
      for (let i = 0; i < 50; i++) verify(null, msg, publicKey, sig);
      n += 50;
    }
    parentPort.postMessage(n);
  `;
  const counts = await Promise.all(
    Array.from(
      { length: Math.max(1, threads) },
      () =>
        new Promise<number>((resolveCount, reject) => {
          const w = new Worker(code, { eval: true, workerData: { ms } });
          w.once("message", (n: number) => {
            resolveCount(n);
            void w.terminate();
          });
          w.once("error", reject);
        }),
    ),
  );
  return Math.round((counts.reduce((s, n) => s + n, 0) * 1000) / ms);
}
