// A real 2|2 network partition of a 4-validator cluster: each `cairn start` process runs in its own
// network namespace, the two halves reach each other only through a router namespace, and the
// partition is a pair of blackhole routing rules in that router (test/helpers/netns.ts). With 2 of
// 4 validators on each side neither side has a quorum: nothing commits and nothing forks. Healed,
// the cluster commits again, including what each side accepted while cut off.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@cairn/crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createNetLab, type NetLab, netnsUnavailable } from "../helpers/netns.ts";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const nodes: NodeProcess[] = [];
let lab: NetLab | undefined;
afterAll(async () => {
  for (const n of nodes) await n.kill();
  lab?.destroy();
});

const height = async (url: string): Promise<number> => (await getJson(`${url}/status`)).body.height;
const heights = (urls: string[]) => Promise.all(urls.map(height));

/** Every height up to the lowest head has one block hash on all nodes. */
async function expectNoFork(urls: string[]): Promise<number> {
  const top = Math.min(...(await heights(urls)));
  for (let h = 1; h <= top; h++) {
    const hashes = await Promise.all(urls.map(async (u) => (await getJson(`${u}/blocks/${h}`)).body.hash));
    expect(new Set(hashes).size, `height ${h}: ${hashes.join(" ")}`).toBe(1);
  }
  return top;
}

describe("a 4-validator cluster split 2|2 by a network partition", () => {
  it("commits nothing and forks nowhere while split; healed, it commits everything accepted meanwhile", {
    timeout: 180_000,
  }, async () => {
    const why = netnsUnavailable();
    if (why !== undefined) throw new Error(why);
    lab = createNetLab(4, [2, 3], `p${process.pid % 10_000}`);
    const out = tempDir("partition");
    const base = 20_000 + ((await freePort()) % 20_000);
    const made = await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)]);
    expect(made.code, made.stderr).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    // Listen on, and reach peers at, the namespace addresses instead of loopback.
    const p2p = (i: number) => `/tcp/${base + 100 + i}`;
    for (const home of homes) {
      const file = join(home, "config.json");
      let text = readFileSync(file, "utf8");
      lab.nodes.forEach((n, i) => {
        text = text.replaceAll(`/ip4/127.0.0.1${p2p(i)}`, `/ip4/${n.ip}${p2p(i)}`);
      });
      writeFileSync(file, text);
    }
    const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
    const admin = readKey(homes[0]!);
    for (let i = 0; i < 4; i++) {
      const n = lab.nodes[i]!;
      nodes.push(await startNodeProcess(homes[i]!, base + i, [], { host: n.ip, netns: n.netns }));
    }
    const urls = nodes.map((n) => n.url);
    await waitFor("a full mesh", async () => {
      const st = await Promise.all(urls.map((u) => getJson(`${u}/status`)));
      return st.every((s) => s.body.peers.length === 3);
    });

    // Connected: a transaction sent to side A commits everywhere.
    const before = await postTxs(urls[0]!, [kvPut(admin, chainId, "before", "split", 500)], true);
    expect(before.body.results[0].status).toBe("committed");
    await waitFor("every node at the first commit", async () =>
      (await heights(urls)).every((h) => h >= before.body.results[0].height),
    );

    // Split. A block already voted on may still finish on some nodes, so allow one more height.
    lab.partition();
    const cutAt = Math.max(...(await heights(urls)));
    const sideA = Array.from({ length: 10 }, (_, i) => kvPut(admin, chainId, `a${i}`, "side A", 500));
    const sideB = Array.from({ length: 10 }, (_, i) => kvPut(admin, chainId, `b${i}`, "side B", 500));
    const accA = await postTxs(urls[0]!, sideA);
    const accB = await postTxs(urls[2]!, sideB);
    for (const r of [...accA.body.results, ...accB.body.results]) expect(r.status).toBe("pending");
    const pending = [...sideA, ...sideB].map((t) => toHex(t.hash));
    await new Promise((r) => setTimeout(r, 8_000));
    const during = await heights(urls);
    for (const h of during) expect(h).toBeLessThanOrEqual(cutAt + 1);
    await expectNoFork(urls);
    for (const u of urls) {
      for (const hash of pending)
        expect((await getJson(`${u}/txs/${hash}`)).body.status, `${u} ${hash}`).not.toBe("committed");
    }
    // Every validator waits for prevotes or precommits from a quorum (3 of 4) that cannot form.
    // (Its peer list may still show the far side: a blackholed TCP connection looks alive until
    // libp2p's connection monitor gives up on it.)
    for (const u of urls) {
      const status = (await getJson(`${u}/status`)).body;
      expect(["prevote", "precommit"], `${u} ${JSON.stringify(status.consensus)}`).toContain(status.consensus.step);
    }

    // Healed: commits resume and what each side accepted while split commits, once, everywhere.
    lab.heal();
    await waitFor(
      "every transaction accepted during the split to commit on every node",
      async () => {
        for (const u of urls)
          for (const hash of pending) if ((await getJson(`${u}/txs/${hash}`)).body.status !== "committed") return false;
        return true;
      },
      90_000,
    );
    const top = await expectNoFork(urls);
    expect(top).toBeGreaterThan(cutAt);
    const seen = new Map<string, number>();
    for (let h = 1; h <= top; h++) {
      for (const t of (await getJson(`${urls[3]}/blocks/${h}`)).body.txs as string[])
        seen.set(t, (seen.get(t) ?? 0) + 1);
    }
    for (const hash of pending) expect(seen.get(hash), hash).toBe(1);
    const after = await postTxs(urls[3]!, [kvPut(admin, chainId, "after", "healed", 500)], true);
    expect(after.body.results[0].status).toBe("committed");
    for (const u of urls) expect((await getJson(`${u}/evidence`)).body).toMatchObject({ evidence: [], total: 0 });
  });
});
