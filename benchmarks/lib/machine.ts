// What machine a benchmark ran on, recorded next to its numbers so runs can be compared.
import { execFileSync } from "node:child_process";
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
}

function cpuModel(): string {
  // /proc/cpuinfo is what `lscpu` reads; os.cpus() gives the same model string elsewhere.
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1] !== undefined) return m[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

function gitCommit(): string | undefined {
  try {
    const opts = { cwd: new URL("../../", import.meta.url).pathname, stdio: ["ignore", "pipe", "ignore"] } as const;
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], opts).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], opts).toString().trim() !== "";
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
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}${
    m.commit === undefined ? "" : `, commit ${m.commit}`
  }`;
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
