// State sync (docs/state-sync.md) as users run it: a chain of 10,000 blocks and 100,000 keys, one
// validator and observers as `cairn start` processes over libp2p and LevelDB. One new observer
// joins by state sync, another by replaying every block; both are timed and must end on the
// validator's state root. A second serving node offers the same snapshot with every chunk file
// corrupted on disk: the joining node must detect it, stop asking it, and finish from the other.
//
// The chain is built in-process with the solo engine (the same node code, `startNode`, cutting
// full 10-transaction blocks as fast as it can), then the validator runs as a Tendermint process.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kvPut } from "@cairn/bench";
import { createNativeSigner } from "@cairn/crypto/native";
import { createLoggers } from "@cairn/management";
import { startNode } from "@cairn/node";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, readKey } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const BLOCKS = 10_000;
const KEYS = 100_000;
const TXS_PER_BLOCK = 10;
const SNAPSHOT_INTERVAL = 2_500;
/** Transactions signed and submitted together (their expiry must stay within maxTxTtl, 1,000 blocks). */
const WAVE = 5_000;

const running: NodeProcess[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) await n.kill();
});

function editConfig(home: string, edit: (c: Record<string, any>) => void): void {
  const path = join(home, "config.json");
  const c = JSON.parse(readFileSync(path, "utf8"));
  edit(c);
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`);
}

async function height(url: string): Promise<number> {
  return (await getJson(`${url}/status`)).body.height as number;
}

async function stateRootAt(url: string, h: number): Promise<string> {
  return (await getJson(`${url}/blocks/${h}`)).body.header.stateRoot as string;
}

async function metric(url: string, event: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.match(new RegExp(`^cairn_state_sync_total\\{event="${event}"\\} (\\d+)`, "m"));
  return m === null ? 0 : Number(m[1]);
}

/** Starts an observer and times it from spawn until it has the validator's height at spawn. */
async function joinObserver(
  home: string,
  port: number,
  target: number,
): Promise<{ node: NodeProcess; seconds: number }> {
  const started = performance.now();
  const node = await startNodeProcess(home, port, ["--log-level", "warn,network=info"], { healthyWithinMs: 600_000 });
  running.push(node);
  await waitFor(`observer at ${port} to reach ${target}`, async () => (await height(node.url)) >= target, 600_000);
  return { node, seconds: (performance.now() - started) / 1000 };
}

/** The `ms` field of the last log line of a node (pino JSON) whose message matches, or 0. */
function loggedMs(output: string, msg: RegExp): number {
  let ms = 0;
  for (const l of output.split("\n")) {
    try {
      const line = JSON.parse(l) as { msg?: string; ms?: number };
      if (line.msg !== undefined && msg.test(line.msg) && typeof line.ms === "number") ms = line.ms;
    } catch {
      // not a log line
    }
  }
  return ms;
}

describe("state sync", () => {
  it(`a new observer restores a snapshot of ${KEYS} keys at height ${BLOCKS} instead of replaying, ends on the same state root, and avoids a peer serving corrupt chunks`, {
    timeout: 1_200_000,
  }, async () => {
    const out = tempDir("state-sync");
    const base = 20_000 + ((await freePort()) % 20_000);
    const made = await runCairn([
      "testnet",
      "--validators",
      "1",
      "--observers",
      "3",
      "--max-block-txs",
      String(TXS_PER_BLOCK),
      "--out",
      out,
      "--base-port",
      String(base),
    ]);
    expect(made.code, made.stderr).toBe(0);
    const [validator, corrupt, joiner, replayer] = ["node0", "observer0", "observer1", "observer2"].map((n) =>
      join(out, n),
    ) as [string, string, string, string];
    const snapshotConfig = (c: Record<string, any>) => {
      c.stateSync = { ...c.stateSync, snapshotInterval: SNAPSHOT_INTERVAL, chunkBytes: 256 * 1024 };
    };

    // --- The chain: 100,000 kv puts in full blocks of 10, by the solo engine in this process.
    editConfig(validator, (c) => {
      snapshotConfig(c);
      c.consensus = { ...c.consensus, engine: "solo", blockInterval: 5 };
      c.storage = { sync: false };
    });
    const client = readKey(out, "client");
    const signer = createNativeSigner(client.secretKey, client.publicKey);
    const solo = await startNode({
      home: validator,
      config: { apiPort: 0 },
      loggers: createLoggers({ level: "silent", pretty: false }),
    });
    try {
      const chainId = solo.genesis.chainId;
      let i = 0;
      while (i < KEYS || solo.ledger.head().height < BLOCKS) {
        const h = solo.ledger.head().height;
        const n = i < KEYS ? WAVE : Math.min(WAVE, (BLOCKS - h) * TXS_PER_BLOCK);
        const txs = Array.from({ length: n }, () => kvPut(chainId, signer, h + 900, "key-", i++).bytes);
        const accepted = (await solo.mempool.add(txs)).filter((r) => r.ok).length;
        expect(accepted).toBe(n);
        const until = h + Math.ceil(n / TXS_PER_BLOCK);
        await waitFor(`solo chain to reach ${until}`, () => solo.mempool.size === 0, 300_000);
      }
      const snapshots = () => readdirSync(join(validator, "data", "snapshots"));
      await waitFor("the snapshot at 10,000 to be written", () => snapshots().includes(String(BLOCKS)), 60_000);
    } finally {
      await solo.stop();
    }
    expect(readdirSync(join(validator, "data", "snapshots")).sort()).toEqual(["10000", "7500"]);

    // --- A second server with the same database and snapshots, every chunk file of the newest corrupted.
    cpSync(join(validator, "data"), join(corrupt, "data"), { recursive: true });
    rmSync(join(corrupt, "data", "safety-record.bin"), { force: true });
    const chunkDir = join(corrupt, "data", "snapshots", String(BLOCKS));
    const chunkFiles = readdirSync(chunkDir).filter((f) => f.startsWith("chunk-"));
    expect(chunkFiles.length).toBeGreaterThan(8);
    for (const f of chunkFiles) {
      const bytes = readFileSync(join(chunkDir, f));
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
      writeFileSync(join(chunkDir, f), bytes);
    }
    editConfig(validator, (c) => {
      c.consensus = { ...c.consensus, engine: "tendermint" };
      c.storage = { sync: true };
    });
    editConfig(corrupt, snapshotConfig);
    const v = await startNodeProcess(validator, base, [], { healthyWithinMs: 60_000 });
    running.push(v);
    const bad = await startNodeProcess(corrupt, base + 1, [], { healthyWithinMs: 60_000 });
    running.push(bad);
    await waitFor("the corrupt server to follow", async () => (await height(bad.url)) > BLOCKS, 60_000);

    // --- Join by state sync.
    editConfig(joiner, (c) => {
      c.stateSync = { ...c.stateSync, enable: true };
    });
    const synced = await joinObserver(joiner, base + 2, await height(v.url));
    const restoring =
      loggedMs(synced.node.output(), /state sync: snapshot restored/) +
      loggedMs(synced.node.output(), /caught up from peers/);
    expect(loggedMs(synced.node.output(), /state sync: snapshot restored/)).toBeGreaterThan(0);
    expect(synced.node.output()).toMatch(/a peer served a chunk that does not match the snapshot; no longer asking it/);
    const rejected = await metric(synced.node.url, "chunk_rejected");
    const served = await metric(bad.url, "chunk_served");
    expect(rejected).toBeGreaterThanOrEqual(1);
    // Every chunk the corrupt server sent was rejected, and it was not asked again: at most the
    // requests already in flight to it when the first answer was found bad (4 requests are in
    // flight at a time), where sharing the chunks evenly would have sent it half of them.
    expect(served).toBe(rejected);
    expect(rejected).toBeLessThanOrEqual(4);
    expect(rejected).toBeLessThan(chunkFiles.length / 2);
    expect(await metric(synced.node.url, "chunk_applied")).toBe(chunkFiles.length);
    expect(await metric(synced.node.url, "snapshot_restored")).toBe(1);
    // It does not hold the blocks before its replay window, and does hold the window.
    expect((await getJson(`${synced.node.url}/blocks/5`)).status).toBe(404);
    expect((await getJson(`${synced.node.url}/blocks/${BLOCKS - 10}`)).status).toBe(200);

    // --- Join by replaying every block.
    const replayed = await joinObserver(replayer, base + 3, await height(v.url));
    // The replay's sync phase: its time from spawn less the start-up both nodes pay (the state-synced
    // node's time from spawn less its logged sync). Its own "caught up from peers" line covers only
    // the catch-up before consensus starts; when a peer stops answering that one part way, the
    // consensus engine's background sync fetches the rest, which that line does not count.
    const replaying = replayed.seconds * 1000 - (synced.seconds * 1000 - restoring);

    // --- Same state root as the validator at a common height, and both keep following.
    const common = Math.min(await height(synced.node.url), await height(replayed.node.url), await height(v.url));
    const root = await stateRootAt(v.url, common);
    expect(await stateRootAt(synced.node.url, common)).toBe(root);
    expect(await stateRootAt(replayed.node.url, common)).toBe(root);
    const state = (await getJson(`${synced.node.url}/state/kv/${Buffer.from("key-00099999").toString("hex")}`)).body;
    expect(state).toEqual((await getJson(`${v.url}/state/kv/${Buffer.from("key-00099999").toString("hex")}`)).body);
    const after = common + 2;
    await waitFor(
      "both observers to follow new blocks",
      async () => (await height(synced.node.url)) >= after && (await height(replayed.node.url)) >= after,
      60_000,
    );

    // The sync itself (from the peers being connected to caught up, as each node logs it) is what
    // state sync replaces; from spawn, both also pay the same few seconds of process start.
    const ratio = replaying / restoring;
    console.log(
      `state sync: restore and catch-up ${(restoring / 1000).toFixed(1)} s, replay ${(replaying / 1000).toFixed(1)} s: ` +
        `${ratio.toFixed(1)}x; from spawn ${synced.seconds.toFixed(1)} s and ${replayed.seconds.toFixed(1)} s: ` +
        `${(replayed.seconds / synced.seconds).toFixed(1)}x; ${rejected} corrupt chunk(s) rejected`,
    );
    expect(ratio).toBeGreaterThanOrEqual(10);

    // Stopped, the state-synced node's database checks out with `cairn doctor`, from its base on.
    expect(await synced.node.stop()).toBe(0);
    const doctor = await runCairn(["doctor", "--home", joiner], 120_000);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(/began from a snapshot: holds blocks 9001 to \d+ \(state sync\)/);
  });
});
