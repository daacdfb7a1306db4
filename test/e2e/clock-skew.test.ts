// One validator of four whose clock is an hour behind (or ahead), run under Debian's faketime:
// the chain's block times follow the honest majority's clocks, the chain keeps its pace, and the
// skew shows in that node's /status and metrics. faketime is installed from Debian when missing.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";

let nodes: NodeProcess[] = [];
afterEach(async () => {
  for (const n of nodes) await n.kill();
  nodes = [];
});

beforeAll(() => {
  try {
    execFileSync("faketime", ["-f", "+0", "true"]);
  } catch {
    execFileSync("sh", ["-c", "apt-get install -y faketime || (apt-get update && apt-get install -y faketime)"], {
      stdio: "ignore",
      timeout: 120_000,
    });
  }
}, 150_000);

/** Where Debian's faketime package put its library. */
function libfaketime(): string {
  const files = execFileSync("dpkg", ["-L", "libfaketime"], { encoding: "utf8" }).split("\n");
  const lib = files.find((f) => f.endsWith("/libfaketime.so.1"));
  if (lib === undefined) throw new Error("libfaketime.so.1 not found (apt-get install faketime)");
  return lib;
}

async function run(skew: string): Promise<{ blocks: number; seconds: number; maxTimeError: number; status: any }> {
  const out = tempDir("clock");
  const base = 20_000 + ((await freePort()) % 20_000);
  expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
  const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
  const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
  for (let i = 0; i < 3; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
  // libfaketime preloaded into the node itself (the faketime command would leave its child behind
  // when killed); wall-clock time only: the node's timers (monotonic clock) run at the normal pace.
  nodes.push(
    await startNodeProcess(homes[3]!, base + 3, [], {
      env: { LD_PRELOAD: libfaketime(), FAKETIME: skew, FAKETIME_DONT_FAKE_MONOTONIC: "1" },
    }),
  );
  const urls = nodes.map((n) => n.url);
  const admin = readKey(homes[0]!);
  const h0 = (await getJson(`${urls[0]}/status`)).body.height as number;
  const t0 = Date.now();
  // 20 batches, round robin over all four nodes (the skewed one too), each waiting for its commit.
  const lat: number[] = [];
  for (let b = 0; b < 20; b++) {
    const tb = Date.now();
    const r = await postTxs(urls[b % 4]!, [kvPut(admin, chainId, `k${b}`, "v")], true);
    expect(r.body.committed, JSON.stringify(r.body).slice(0, 200)).toBe(1);
    lat.push(Date.now() - tb);
  }
  console.log(`clock ${skew}: commit latency by batch (node b % 4) ms: ${lat.join(" ")}`);
  const seconds = (Date.now() - t0) / 1000;
  const head = (await getJson(`${urls[0]}/status`)).body.height as number;
  // How far each block's time lies outside the real time of the run [t0, now].
  const tEnd = Date.now();
  let maxTimeError = 0;
  for (let h = h0 + 1; h <= head; h++) {
    const time = (await getJson(`${urls[0]}/blocks/${h}`)).body.header.time as number;
    maxTimeError = Math.max(maxTimeError, t0 - time, time - tEnd);
  }
  return { blocks: head - h0, seconds, maxTimeError, status: (await getJson(`${urls[3]}/status`)).body };
}

describe("a validator with a skewed clock", () => {
  for (const skew of ["-1h", "+1h"]) {
    it(`${skew}: block times follow the honest clocks and the chain keeps its pace`, { timeout: 120_000 }, async () => {
      const r = await run(skew);
      console.log(
        `clock ${skew} on node3: 20 commits in ${r.seconds.toFixed(1)} s over ${r.blocks} blocks; max block time error ${r.maxTimeError} ms`,
      );
      // 20 round trips; with a healthy chain each takes well under a second.
      expect(r.seconds).toBeLessThan(40);
      // Block times stay within a few seconds of real time, whoever proposed.
      expect(r.maxTimeError).toBeLessThan(5_000);
      // The skewed node sees (and reports) that its clock disagrees with the proposers'.
      expect(Math.abs(r.status.clock.offsetMs)).toBeGreaterThan(3_000_000);
    });
  }
});
