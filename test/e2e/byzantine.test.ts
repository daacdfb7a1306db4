// One Byzantine validator in a 4-validator cluster of real processes: for every proposal it sees it
// signs conflicting prevotes and precommits (for the block and for a random hash) and never proposes.
// The three honest validators keep committing identical blocks, and record its equivocation as
// evidence served by GET /evidence, kept across a restart and checkable from the validator set.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeConsensusMessage,
  type Evidence,
  encodeConsensusMessage,
  signVote,
  verifyEvidence,
} from "@cairn/consensus";
import { fromHex, toHex } from "@cairn/crypto";
import { createNativeSigner, nativeVerify } from "@cairn/crypto/native";
import { VoteType } from "@cairn/messaging";
import { createNetwork, type Network } from "@cairn/network";
import { readKeyFile } from "@cairn/node";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";

interface EvidenceJson {
  validator: string;
  height: number;
  round: number;
  type: number;
  votes: { blockHash: string; signature: string }[];
}

function fromJson(e: EvidenceJson): Evidence {
  const [a, b] = e.votes.map((v) => ({
    type: e.type as VoteType,
    height: e.height,
    round: e.round,
    blockHash: fromHex(v.blockHash),
    validator: fromHex(e.validator),
    signature: fromHex(v.signature),
  }));
  return { first: a!, second: b! };
}

const nodes: NodeProcess[] = [];
let byzantine: Network | undefined;
afterAll(async () => {
  await byzantine?.stop();
  for (const n of nodes) await n.kill();
});

describe("a Byzantine validator", () => {
  it("equivocates; the honest three keep committing the same blocks and record evidence", {
    timeout: 120_000,
  }, async () => {
    const out = tempDir("byzantine");
    const base = 20_000 + ((await freePort()) % 20_000);
    expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    const genesisJson = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8"));
    const chainId = genesisJson.chainId as string;

    // Node 3 is not started: its keys drive a hand-written Byzantine validator on its p2p address.
    const config3 = JSON.parse(readFileSync(join(homes[3]!, "config.json"), "utf8"));
    const key3 = await readKeyFile(join(homes[3]!, "keys", "validator.json"));
    const signer = createNativeSigner(key3.secretKey, key3.publicKey);
    const net = await createNetwork(
      {},
      {
        chainId,
        keyFile: join(homes[3]!, "keys", "peer.key"),
        listen: [config3.p2p.listen],
        members: genesisJson.members.map((m: { peerId: string }) => m.peerId),
        bootstrap: config3.p2p.bootstrap,
      },
    );
    byzantine = net;
    const attacked = new Set<string>();
    net.subscribe("consensus", (bytes) => {
      const m = decodeConsensusMessage(bytes);
      if (m.kind !== "proposal") return;
      const { height, round, blockHash } = m.proposal;
      const id = `${height}/${round}`;
      if (attacked.has(id)) return;
      attacked.add(id);
      const other = crypto.getRandomValues(new Uint8Array(32));
      for (const type of [VoteType.prevote, VoteType.precommit]) {
        for (const hash of [blockHash, other]) {
          const vote = signVote(chainId, signer, { type, height, round, blockHash: hash });
          void net.publish("consensus", encodeConsensusMessage({ kind: "vote", vote })).catch(() => {});
        }
      }
    });

    for (let i = 0; i < 3; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    const urls = nodes.map((n) => n.url);
    const admin = readKey(homes[0]!);
    for (let round = 0; round < 4; round++) {
      const txs = Array.from({ length: 10 }, (_, i) => kvPut(admin, chainId, `z${round}-${i}`, "v", 300));
      const r = await postTxs(urls[round % 3]!, txs, true);
      expect(r.body.committed, JSON.stringify(r.body).slice(0, 300)).toBe(10);
    }
    expect(attacked.size).toBeGreaterThan(0);

    const top = Math.min(...(await Promise.all(urls.map(async (u) => (await getJson(`${u}/status`)).body.height))));
    for (let h = 1; h <= top; h++) {
      const blocks = await Promise.all(urls.map((u) => getJson(`${u}/blocks/${h}`)));
      expect(new Set(blocks.map((b) => b.body.hash)).size, `height ${h}`).toBe(1);
    }
    const evidence = await Promise.all(urls.map(async (u) => (await getJson(`${u}/evidence`)).body.evidence));
    const byzKey = toHex(key3.publicKey);
    expect(evidence.some((list: { validator: string }[]) => list.some((e) => e.validator === byzKey))).toBe(true);
    for (const list of evidence) for (const e of list as { validator: string }[]) expect(e.validator).toBe(byzKey);

    // Anyone holding the validator set can check the evidence: two votes, both signed by it.
    for (const e of evidence.flat() as EvidenceJson[])
      expect(verifyEvidence(chainId, fromJson(e), nativeVerify)).toBe(true);

    // Evidence is kept on disk: a restarted node still serves what it had recorded.
    const kept = evidence[0] as EvidenceJson[];
    expect(kept.length).toBeGreaterThan(0);
    expect(await nodes[0]!.stop()).toBe(0);
    nodes[0] = await startNodeProcess(homes[0]!, base);
    const again = (await getJson(`${urls[0]}/evidence`)).body.evidence as EvidenceJson[];
    for (const e of kept) expect(again).toContainEqual(e);
  });
});
