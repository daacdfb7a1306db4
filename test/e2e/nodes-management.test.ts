// Nodes management on a running 4-validator cluster of real processes: governance admits a new
// node (refused until then), which catches up and serves reads as an observer; governance makes it
// a validator at a defined height, and removes another validator and its node, which the others
// then disconnect and refuse. Consensus goes on throughout.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, type KeyPair } from "@cairn/crypto";
import type { Value } from "@cairn/messaging";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey, signedCall } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const nodes: (NodeProcess | undefined)[] = [];
afterAll(async () => {
  for (const n of nodes) await n?.kill();
});

const status = async (url: string) => (await getJson(`${url}/status`)).body;

describe("nodes management on a running cluster", () => {
  it("admits an observer, makes it a validator at a defined height, removes a validator and refuses its node", {
    timeout: 240_000,
  }, async () => {
    const out = tempDir("nodes-mgmt");
    const base = 20_000 + ((await freePort()) % 20_000);
    const made = await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)]);
    expect(made.code, made.stderr).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId as string;
    const admins = [0, 1, 2, 3].map((i) => readKey(out, `org${i}-admin`));
    const client = readKey(out, "client");
    const peerIdOf = (home: string) =>
      JSON.parse(readFileSync(join(home, "genesis.json"), "utf8")).members.find(
        (m: { name: string }) => m.name === home.split("/").pop(),
      ).peerId as string;
    const validatorKeyOf = (home: string) =>
      JSON.parse(readFileSync(join(home, "keys", "validator.json"), "utf8")).publicKey as string;
    for (let i = 0; i < 4; i++) nodes[i] = await startNodeProcess(homes[i]!, base + i);
    const url = (i: number) => nodes[i]!.url;

    let proposals = 0;
    /** One governance transaction, committed; returns its receipt. */
    const govTx = async (admin: KeyPair, method: string, args: Value[]) => {
      const r = await postTxs(url(0), [signedCall(admin, chainId, "gov", method, args, 300)], true);
      const res = r.body.results[0];
      expect(res.status, JSON.stringify(res)).toBe("committed");
      return res as { height: number; receipt: { code: string; events: { name: string }[] } };
    };
    /** Proposes with org0 and approves with org1 and org2 (3 of 4 organisations: more than 50 %). */
    const pass = async (action: string, args: Value[]) => {
      const proposed = await govTx(admins[0]!, "propose", [action, args]);
      expect(proposed.receipt.code).toBe("OK");
      const id = ++proposals;
      expect((await govTx(admins[1]!, "approve", [id])).receipt.code).toBe("OK");
      const executed = await govTx(admins[2]!, "approve", [id]);
      expect(executed.receipt.code).toBe("OK");
      expect(executed.receipt.events.map((e) => e.name)).toContain("executed");
      return executed.height;
    };
    let written = 0;
    const writeSome = async (i: number, n = 5) => {
      const txs = Array.from({ length: n }, () => kvPut(client, chainId, `k${++written}`, `v${written}`, 300));
      const r = await postTxs(url(i), txs, true);
      expect(r.body.committed, JSON.stringify(r.body)).toBe(n);
      return r.body.results[n - 1].height as number;
    };

    // A new node joins: `cairn join` writes its home; until governance registers it, it is refused.
    const joined = await runCairn([
      "join",
      "--from",
      homes[0]!,
      "--out",
      join(out, "node4"),
      "--api-port",
      String(base + 4),
      "--p2p-port",
      String(base + 104),
      "--moniker",
      "node4",
      "--json",
    ]);
    expect(joined.code, joined.stderr).toBe(0);
    const node4 = JSON.parse(joined.stdout) as { home: string; peerId: string; publicKey: string };
    nodes[4] = await startNodeProcess(node4.home, base + 4);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await status(url(4))).peers).toEqual([]);
    expect((await status(url(0))).peers).not.toContain(node4.peerId);

    // Registered from the CLI: org0 proposes, org1 and org2 approve (3 of 4 organisations), and
    // every node lists it as executed. The others' gaters admit the node; it catches up and serves
    // reads as an observer.
    await writeSome(1);
    const proposed = await runCairn(["gov", "propose", "add-node", node4.peerId, "node4", "org0", "--home", homes[0]!]);
    expect(proposed.code, proposed.stderr).toBe(0);
    expect(proposed.stderr).toMatch(/proposal 1: add-node proposed at height \d+/);
    const id = ++proposals;
    const first = await runCairn(["gov", "approve", String(id), "--home", homes[1]!]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain("executed");
    const second = await runCairn(["gov", "approve", String(id), "--home", homes[2]!]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("executed (took effect)");
    const again = await runCairn(["gov", "approve", String(id), "--home", homes[3]!]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("PROPOSAL_CLOSED");
    const listed = await runCairn(["gov", "list", "--json", "--home", homes[3]!]);
    expect(listed.code, listed.stderr).toBe(0);
    const admitted = JSON.parse(listed.stdout)[0];
    expect(admitted).toMatchObject({ id, action: "add-node", status: "executed", approvals: ["org0", "org1", "org2"] });
    const admittedAt = admitted.executedAt as number;
    const h = await writeSome(2);
    await waitFor("the new node to connect", async () => (await status(url(4))).peers.length >= 3);
    await waitFor("the observer to catch up", async () => (await status(url(4))).height >= h);
    const observed = await status(url(4));
    expect(observed.role).toBe("observer");
    expect(observed.validators).toHaveLength(4);
    const read = await getJson(`${url(4)}/state/kv/k1`);
    expect(read.status).toBe(200);
    expect(read.body.utf8).toBe("v1");
    expect(admittedAt).toBeGreaterThan(0);

    // It becomes a validator at approval height + validatorDelay (2), on every node.
    const addedAt = await pass("add-validator", [fromHex(node4.publicKey), 1, "node4"]);
    const h2 = await writeSome(0, 3);
    expect(h2).toBeGreaterThanOrEqual(addedAt + 1);
    await writeSome(1, 3);
    await writeSome(2, 3);
    const before = (await getJson(`${url(0)}/blocks/${addedAt + 1}`)).body;
    expect(before.commit.signatures.map((s: { validator: string }) => s.validator)).not.toContain(node4.publicKey);
    await waitFor("a block signed by the new validator", async () => {
      const head = (await status(url(0))).height;
      for (let x = addedAt + 2; x <= head; x++) {
        const b = (await getJson(`${url(0)}/blocks/${x}`)).body;
        if (b.commit?.signatures.some((s: { validator: string }) => s.validator === node4.publicKey)) return true;
      }
      await writeSome(3, 2);
      return false;
    });
    for (let i = 0; i < 5; i++) {
      const st = await status(url(i));
      expect(st.validators.map((v: { name: string }) => v.name).sort(), `node${i}`).toEqual([
        "node0",
        "node1",
        "node2",
        "node3",
        "node4",
      ]);
    }
    expect((await status(url(4))).role).toBe("validator");

    // node3 leaves: removed from the validator set, then from the registry. The others disconnect
    // and refuse it; consensus continues with node0, node1, node2 and node4.
    const node3Key = validatorKeyOf(homes[3]!);
    const node3Peer = peerIdOf(homes[3]!);
    await pass("remove-validator", [fromHex(node3Key)]);
    await writeSome(0, 3);
    await writeSome(1, 3);
    await pass("remove-node", [node3Peer]);
    await waitFor("the others to disconnect node3", async () => {
      const peers = await Promise.all([0, 1, 2, 4].map(async (i) => (await status(url(i))).peers as string[]));
      return peers.every((p) => !p.includes(node3Peer));
    });
    // node3 keeps dialling, and is refused: it stays without peers.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await status(url(3))).peers).toEqual([]);
    const last = await writeSome(4, 5);
    await waitFor("every remaining node at the last height", async () =>
      (await Promise.all([0, 1, 2, 4].map(async (i) => (await status(url(i))).height))).every((x) => x >= last),
    );
    const final = await Promise.all([0, 1, 2, 4].map(async (i) => (await getJson(`${url(i)}/blocks/${last}`)).body));
    expect(new Set(final.map((b) => b.hash)).size).toBe(1);
    expect(final[0].commit.signatures.map((s: { validator: string }) => s.validator)).not.toContain(node3Key);
    expect((await status(url(0))).validators.map((v: { name: string }) => v.name).sort()).toEqual([
      "node0",
      "node1",
      "node2",
      "node4",
    ]);
  });
});
