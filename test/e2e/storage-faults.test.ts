// Disk and storage faults on real processes: a validator whose disk fills halts cleanly (and says
// so on /health and /ready) while the other three go on; a database rolled back behind the
// validator's safety record is caught up from peers without signing twice; bytes flipped on disk
// are found by `cairn doctor`, and `--reset-data` repairs the node by resyncing from peers.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";

let nodes: NodeProcess[] = [];
const mounts: string[] = [];
afterEach(async () => {
  for (const n of nodes) await n.kill();
  nodes = [];
});
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync("umount", ["-l", m]);
    } catch {
      // already gone
    }
  }
});

async function testnet(tag: string): Promise<{ homes: string[]; base: number; chainId: string }> {
  const out = tempDir(tag);
  const base = 20_000 + ((await freePort()) % 20_000);
  expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
  const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
  const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
  return { homes, base, chainId };
}

async function heights(urls: string[]): Promise<number[]> {
  return Promise.all(urls.map(async (u) => (await getJson(`${u}/status`)).body.height as number));
}

describe("storage faults", () => {
  it("a validator whose disk fills halts; /health and /ready say STORAGE_FAILED; the other three keep committing", {
    timeout: 180_000,
  }, async () => {
    const { homes, base, chainId } = await testnet("diskfull");
    // node0's data directory on a 24 MiB tmpfs: a disk that fills.
    const data = join(homes[0]!, "data");
    rmSync(data, { recursive: true, force: true });
    execFileSync("mkdir", ["-p", data]);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", data]);
    mounts.push(data);
    for (let i = 0; i < 4; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    const urls = nodes.map((n) => n.url);
    const admin = readKey(homes[0]!);
    // 16 KiB random values (LevelDB compresses repetitive ones) until node0's disk is full and it
    // halts (bounded: 60 batches, about 19 MiB of values).
    let halted = false;
    for (let b = 0; b < 60 && !halted; b++) {
      const txs = Array.from({ length: 20 }, (_, i) =>
        kvPut(admin, chainId, `big-${b}-${i}`, randomBytes(8_000).toString("hex")),
      );
      await postTxs(urls[1 + (b % 3)]!, txs, true);
      const health = await fetch(`${urls[0]}/health`).catch(() => undefined);
      halted = health?.status === 503;
    }
    expect(halted).toBe(true);
    const ready = (await getJson(`${urls[0]}/ready`)).body;
    expect(ready.ready).toBe(false);
    expect(ready.reasons).toContain("STORAGE_FAILED");
    expect((await getJson(`${urls[0]}/status`)).body.consensus.step).toBe("halted");
    expect(nodes[0]!.output()).toMatch(/storage failed/);
    // The other three commit as if node0 had crashed: measure their pace for 10 s.
    const before = await heights(urls.slice(1));
    const t0 = Date.now();
    let committed = 0;
    for (let b = 0; Date.now() - t0 < 10_000; b++) {
      const txs = Array.from({ length: 20 }, (_, i) => kvPut(admin, chainId, `after-${b}-${i}`, "v"));
      const r = await postTxs(urls[1 + (b % 3)]!, txs, true);
      committed += r.body.committed as number;
    }
    const after = await heights(urls.slice(1));
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `disk full on node0: the other three made ${after[0]! - before[0]!} blocks, ${committed} txs in ${secs.toFixed(1)} s`,
    );
    expect(after[0]! - before[0]!).toBeGreaterThan(5);
    // The process stays up to say so; it is not serving a half-written chain.
    expect(nodes[0]!.child.exitCode).toBeNull();
  });

  it("a database rolled back behind the safety record: the node catches up from peers and signs nothing twice", {
    timeout: 180_000,
  }, async () => {
    const { homes, base, chainId } = await testnet("rollback");
    for (let i = 0; i < 4; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    const urls = nodes.map((n) => n.url);
    const admin = readKey(homes[0]!);
    const load = async (tag: string, n: number) => {
      for (let b = 0; b < n; b++) {
        const r = await postTxs(urls[b % 4]!, [kvPut(admin, chainId, `${tag}${b}`, "v")], true);
        expect(r.body.committed).toBe(1);
      }
    };
    await load("a", 5);
    // A snapshot of node3's database (not its safety record), as a damaged log would leave it.
    expect(await nodes[3]!.stop()).toBe(0);
    const snapshot = `${homes[3]}-snapshot`;
    cpSync(join(homes[3]!, "data"), snapshot, { recursive: true });
    rmSync(join(snapshot, "safety-record.bin"), { force: true });
    nodes[3] = await startNodeProcess(homes[3]!, base + 3);
    await load("b", 20);
    expect(await nodes[3]!.stop()).toBe(0);
    const record = readFileSync(join(homes[3]!, "data", "safety-record.bin"));
    rmSync(join(homes[3]!, "data"), { recursive: true });
    cpSync(snapshot, join(homes[3]!, "data"), { recursive: true });
    writeFileSync(join(homes[3]!, "data", "safety-record.bin"), record);
    const doctor = await runCairn(["doctor", "--home", homes[3]!]);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toMatch(/behind the validator's safety record/);
    nodes[3] = await startNodeProcess(homes[3]!, base + 3, ["--log-level", "info"]);
    await load("c", 10);
    const hs = await heights(urls);
    expect(Math.min(...hs)).toBeGreaterThan(20);
    // The same blocks everywhere, and node3 never signed two different votes: no evidence against anyone.
    const top = Math.min(...hs);
    for (let h = 1; h <= top; h++) {
      const blocks = await Promise.all(urls.map((u) => getJson(`${u}/blocks/${h}`)));
      expect(new Set(blocks.map((b) => b.body.hash)).size, `height ${h}`).toBe(1);
    }
    for (const u of urls) expect((await getJson(`${u}/evidence`)).body.total).toBe(0);
    // It caught up from its peers (at start-up, before consensus, or in the background while
    // signing nothing below its record: the engine test covers that path step by step).
    expect(nodes[3]!.output()).toMatch(/caught up/);
  });

  it("cairn doctor finds bytes flipped in a table file; --reset-data keeps the safety record and the node resyncs", {
    timeout: 180_000,
  }, async () => {
    const { homes, base, chainId } = await testnet("doctor");
    for (let i = 0; i < 4; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    const urls = nodes.map((n) => n.url);
    const admin = readKey(homes[0]!);
    for (let b = 0; b < 10; b++) {
      const txs = Array.from({ length: 20 }, (_, i) =>
        kvPut(admin, chainId, `d${b}-${i}`, randomBytes(1_000).toString("hex")),
      );
      expect((await postTxs(urls[b % 4]!, txs, true)).body.committed).toBe(20);
    }
    expect(await nodes[2]!.stop()).toBe(0);
    const healthy = await runCairn(["doctor", "--home", homes[2]!, "--json"]);
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    expect(JSON.parse(healthy.stdout).ok).toBe(true);
    // Flip bytes at a quarter, half and three quarters of every table file (opening the database
    // once wrote them): some of what they hit is live data, whatever LevelDB laid out where.
    const data = join(homes[2]!, "data");
    const tables = readdirSync(data)
      .filter((f) => f.endsWith(".ldb"))
      .map((f) => join(data, f))
      .filter((f) => statSync(f).size > 4096);
    expect(tables.length).toBeGreaterThan(0);
    for (const t of tables) {
      const bytes = readFileSync(t);
      for (const at of [0.25, 0.5, 0.75]) {
        for (let i = 0; i < 64; i++) bytes[Math.floor(bytes.length * at) + i]! ^= 0x5a;
      }
      writeFileSync(t, bytes);
    }
    const damaged = await runCairn(["doctor", "--home", homes[2]!]);
    expect(damaged.code, damaged.stdout + damaged.stderr).toBe(3);
    expect(damaged.stdout).toMatch(/DAMAGED/);
    expect(damaged.stdout).toMatch(/--reset-data/);
    const reset = await runCairn(["doctor", "--home", homes[2]!, "--reset-data"]);
    expect(reset.code).toBe(0);
    nodes[2] = await startNodeProcess(homes[2]!, base + 2);
    const target = Math.max(...(await heights([urls[0]!])));
    const deadline = Date.now() + 30_000;
    while ((await heights([urls[2]!]))[0]! < target) {
      if (Date.now() > deadline) throw new Error("node2 did not resync");
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await nodes[2]!.stop()).toBe(0);
    expect((await runCairn(["doctor", "--home", homes[2]!])).code).toBe(0);
  });
});
