// A 4-validator BFT cluster of real processes on loopback, made by `cairn testnet` and started with
// `cairn start`: every node commits the same blocks; a validator killed with SIGKILL does not stop
// the others; restarted, it catches up from its peers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { proposerSchedule } from "@cairn/consensus";
import { toHex } from "@cairn/crypto";
import { parseGenesis } from "@cairn/ledger";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const nodes: (NodeProcess | undefined)[] = [];
afterAll(async () => {
  for (const n of nodes) await n?.kill();
});

async function height(url: string): Promise<number> {
  return (await getJson(`${url}/status`)).body.height;
}

describe("a 4-validator cluster", () => {
  it("agrees on every block; under load a SIGKILLed validator loses nothing; paused or restarted validators catch up; no quorum, no commit; a killed proposer is replaced", {
    timeout: 180_000,
  }, async () => {
    const out = tempDir("cluster");
    // Ports: API base+i, p2p base+100+i; pick a base whose range is free enough for the test.
    const base = 20_000 + ((await freePort()) % 20_000);
    const made = await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)]);
    expect(made.code, made.stderr).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
    const admin = readKey(homes[0]!);
    for (let i = 0; i < 4; i++) nodes[i] = await startNodeProcess(homes[i]!, base + i);
    const urls = nodes.map((n) => n!.url);

    // Transactions sent to one node are gossiped, ordered and committed by all.
    const first = Array.from({ length: 30 }, (_, i) => kvPut(admin, chainId, `a${i}`, `v${i}`, 300));
    const res = await postTxs(urls[1]!, first, true);
    expect(res.body.committed).toBe(30);
    const h1 = res.body.results[29].height as number;
    await waitFor("all nodes at the first batch's height", async () =>
      (await Promise.all(urls.map(height))).every((h) => h >= h1),
    );
    for (let h = 1; h <= h1; h++) {
      const blocks = await Promise.all(urls.map((u) => getJson(`${u}/blocks/${h}`)));
      expect(new Set(blocks.map((b) => b.body.hash)).size, `height ${h}`).toBe(1);
      expect(blocks[0]!.body.commit.signatures.length).toBeGreaterThanOrEqual(3);
    }

    // Status shows the BFT engine, the validator set and the peers; no one has equivocated.
    const st = (await getJson(`${urls[0]}/status`)).body;
    expect(st.consensus.engine).toBe("tendermint");
    expect(st.validators).toHaveLength(4);
    expect(st.peers).toHaveLength(3);
    expect((await getJson(`${urls[0]}/evidence`)).body).toMatchObject({ evidence: [], total: 0 });

    // Under load sent to three nodes, one validator is killed: everything the API accepted is
    // committed exactly once.
    const accepted: string[] = [];
    const load = (async () => {
      for (let round = 0; round < 6; round++) {
        for (let n = 0; n < 3; n++) {
          const batch = Array.from({ length: 25 }, (_, i) => kvPut(admin, chainId, `l${round}-${n}-${i}`, "x", 300));
          const r = await postTxs(urls[n]!, batch);
          for (const item of r.body.results) if (item.status === "pending") accepted.push(item.hash);
        }
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 250));
    await nodes[3]!.kill();
    nodes[3] = undefined;
    await load;
    expect(accepted.length).toBe(450);
    await waitFor("every accepted transaction to commit", async () => {
      for (const hash of accepted.slice(-20))
        if ((await getJson(`${urls[0]}/txs/${hash}`)).body.status !== "committed") return false;
      return true;
    });
    const seen = new Map<string, number>();
    const top = await height(urls[0]!);
    for (let h = 1; h <= top; h++) {
      for (const t of (await getJson(`${urls[0]}/blocks/${h}`)).body.txs as string[])
        seen.set(t, (seen.get(t) ?? 0) + 1);
    }
    for (const hash of accepted) expect(seen.get(hash), hash).toBe(1);

    // The other three keep committing.
    const second = Array.from({ length: 30 }, (_, i) => kvPut(admin, chainId, `b${i}`, `v${i}`, 300));
    const res2 = await postTxs(urls[0]!, second, true);
    expect(res2.body.committed).toBe(30);
    const h2 = Math.max(...res2.body.results.map((r: { height: number }) => r.height));

    // Restarted, it catches up from its peers and follows the chain again.
    nodes[3] = await startNodeProcess(homes[3]!, base + 3);
    await waitFor("the restarted node to catch up", async () => (await height(urls[3]!)) >= h2, 60_000);
    const [a, b] = await Promise.all([getJson(`${urls[0]}/blocks/${h2}`), getJson(`${urls[3]}/blocks/${h2}`)]);
    expect(b.body.hash).toBe(a.body.hash);
    const third = await postTxs(urls[3]!, [kvPut(admin, chainId, "c", "after restart", 300)], true);
    expect(third.body.results[0].status).toBe("committed");

    // A validator that falls behind while running (paused with SIGSTOP) catches up by block sync
    // once it sees its peers' later heights, without a restart.
    nodes[2]!.child.kill("SIGSTOP");
    for (let i = 0; i < 3; i++) {
      const r = await postTxs(urls[0]!, [kvPut(admin, chainId, `d${i}`, "while paused", 300)], true);
      expect(r.body.results[0].status).toBe("committed");
    }
    nodes[2]!.child.kill("SIGCONT");
    const target = await height(urls[0]!);
    const more = await postTxs(urls[1]!, [kvPut(admin, chainId, "e", "after resume", 300)], true);
    expect(more.body.results[0].status).toBe("committed");
    await waitFor("the paused node to catch up", async () => (await height(urls[2]!)) >= target, 60_000);
    const [x, y] = await Promise.all([getJson(`${urls[0]}/blocks/${target}`), getJson(`${urls[2]}/blocks/${target}`)]);
    expect(y.body.hash).toBe(x.body.hash);

    // Two of four validators unreachable (paused): no quorum, so nothing commits and nothing forks;
    // when they come back, the pending transaction commits everywhere.
    nodes[2]!.child.kill("SIGSTOP");
    nodes[3]!.child.kill("SIGSTOP");
    const stuckAt = await height(urls[0]!);
    const pending = await postTxs(urls[0]!, [kvPut(admin, chainId, "f", "no quorum", 300)]);
    const fHash = pending.body.results[0].hash as string;
    await new Promise((r) => setTimeout(r, 3000));
    expect(await height(urls[0]!)).toBe(stuckAt);
    expect(await height(urls[1]!)).toBe(stuckAt);
    expect((await getJson(`${urls[0]}/txs/${fHash}`)).body.status).toBe("pending");
    nodes[2]!.child.kill("SIGCONT");
    nodes[3]!.child.kill("SIGCONT");
    await waitFor(
      "the pending transaction to commit after quorum returns",
      async () => {
        return (await getJson(`${urls[0]}/txs/${fHash}`)).body.status === "committed";
      },
      60_000,
    );
    const fh = (await getJson(`${urls[0]}/txs/${fHash}`)).body.height as number;
    await waitFor(
      "all nodes at that height",
      async () => (await Promise.all(urls.map(height))).every((h) => h >= fh),
      60_000,
    );
    const finals = await Promise.all(urls.map((u) => getJson(`${u}/blocks/${fh}`)));
    expect(new Set(finals.map((b) => b.body.hash)).size).toBe(1);

    // The proposer of the next height is killed: the others time out, change round, and commit.
    const genesis = parseGenesis(JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")));
    const next = (await height(urls[0]!)) + 1;
    const proposerKey = toHex(proposerSchedule(genesis.validators)(next, 0).publicKey);
    const victim = genesis.validators.findIndex((v) => toHex(v.publicKey) === proposerKey);
    await nodes[victim]!.kill();
    nodes[victim] = undefined;
    const via = urls[(victim + 1) % 4]!;
    const afterKill = await postTxs(via, [kvPut(admin, chainId, "g", "new proposer", 300)], true);
    expect(afterKill.body.results[0].status).toBe("committed");
    const block = (await getJson(`${via}/blocks/${afterKill.body.results[0].height}`)).body;
    expect(block.header.proposer).not.toBe(proposerKey);
    // No validator failed a consensus step along the way (e.g. proposing transactions that the
    // blocks it synced had already committed).
    for (const n of nodes) if (n !== undefined) expect(n.output()).not.toContain("bft: step failed");
  });
});
