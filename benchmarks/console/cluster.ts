// What the console benchmarks share: a 4-validator `cairn cluster` of processes on loopback (as
// `npm start` runs it), its admin signer, and a headless Chromium.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kvPut } from "@cairn/bench";
import { freePort } from "@cairn/cluster";
import { fromHex, toHex } from "@cairn/crypto";
import { createNativeSigner, type NativeSigner } from "@cairn/crypto/native";
import { until } from "@cairn/test-utils";

const ROOT = new URL("../../", import.meta.url).pathname;
const CAIRN = join(ROOT, "packages/cli/bin/cairn.js");

/** A positive number option (`--name N`), or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

export interface ConsoleCluster {
  /** Node i's API. */
  url(i: number): string;
  /** Node i's home directory (its keys/admin.json is its organisation's admin, org<i>). */
  home(i: number): string;
  /** Node i's process id (from the cluster's control endpoint). */
  pid(i: number): Promise<number>;
  /** `count` signed kv puts (hex envelopes) from the admin key, valid for half the chain's TTL from now. */
  kvPuts(count: number, prefix: string, first: number): Promise<string[]>;
  /** Ctrl-C to the cluster, and SIGKILL if it has not stopped within 30 s. */
  stop(): Promise<void>;
}

/** Starts `cairn cluster` (4 validators) in a fresh directory and waits until every node answers. */
export async function startConsoleCluster(prefix: string): Promise<ConsoleCluster> {
  const out = join(await mkdtemp(join(tmpdir(), prefix)), "cluster");
  const base = 20_000 + ((await freePort()) % 20_000);
  let log = "";
  const child: ChildProcess = spawn(
    process.execPath,
    [CAIRN, "cluster", "--out", out, "--base-port", String(base), "--log-level", "warn"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid, "SIGINT");
    await until(() => child.exitCode !== null || child.signalCode !== null, 30_000, "the cluster to stop").catch(() =>
      process.kill(-(child.pid as number), "SIGKILL"),
    );
  };
  try {
    await until(() => log.includes("Ctrl-C to stop every node"), 120_000, "the cluster to start");
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}:\n${log}`);
  }
  const url = (i: number) => `http://127.0.0.1:${base + i}`;
  const control = /cluster control \(loopback only\): (\S+)/.exec(log)?.[1] as string;
  const chainId = JSON.parse(readFileSync(join(out, "node0", "genesis.json"), "utf8")).chainId as string;
  const keyFile = JSON.parse(readFileSync(join(out, "keys", "admin.json"), "utf8"));
  const admin: NativeSigner = createNativeSigner(fromHex(keyFile.secretKey), fromHex(keyFile.publicKey));
  let head = { at: Number.NEGATIVE_INFINITY, height: 0, maxTxTtl: 0 };
  return {
    url,
    home: (i) => join(out, `node${i}`),
    pid: async (i) => ((await (await fetch(`${control}/nodes`)).json()).nodes as { pid: number }[])[i]?.pid as number,
    kvPuts: async (count, tag, first) => {
      // At hundreds of tx/s the chain passes its TTL within a run: expire half a TTL from the
      // height (read at most once a second).
      if (performance.now() - head.at > 1_000) {
        const st = (await (await fetch(`${url(1)}/status`)).json()) as { height: number; maxTxTtl: number };
        head = { at: performance.now(), height: st.height, maxTxTtl: st.maxTxTtl };
      }
      const expiry = head.height + Math.floor(head.maxTxTtl / 2);
      return Array.from({ length: count }, (_, k) => toHex(kvPut(chainId, admin, expiry, tag, first + k).bytes));
    },
    stop,
  };
}

/** Debian's Chromium, headless, as the console's e2e test runs it. */
export { launchChromium as launchBrowser } from "@cairn/test-utils/browser";
