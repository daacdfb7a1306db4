// A misbehaving validator process, for end-to-end tests against honest `cairn start` processes.
// It joins the cluster with a real validator's keys (its home directory) and speaks the real
// protocol over libp2p, but does what an honest node never does, by the attacks named on its
// command line (comma-separated):
//   future-garbage     votes for two heights ahead with garbage signatures, every 100 ms
//   future-signed      votes for two heights ahead, validly signed, every 100 ms (a sync trigger)
//   future-proposals   1 MiB proposals for later heights, validly signed, every 100 ms
//   resend-garbage     badly signed votes of the current height straight to each peer (consensus-resend)
//   invalid-proposals  when it is the proposer: a block that breaks one rule (cycling through them)
//   conflicting        when it is the proposer: two different blocks for the same round
//   evidence-flood     conflicting votes for ten rounds of every height it sees
// It never answers a block request (a silent sync peer) and never votes honestly. Every action is
// printed as a JSON line on stdout ({"event": ...}) for the test to count.
//
// node test/helpers/byzantine-validator.ts --home DIR --attacks a,b [--duration-ms N]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  BLOCK_SYNC_PROTOCOL,
  decodeBlocksResponse,
  decodeConsensusMessage,
  encodeBlocksRequest,
  encodeResendBatches,
  proposerSchedule,
} from "@cairn/consensus";
import { toHex } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";
import { blockHash, type Validator, VoteType } from "@cairn/messaging";
import { createNetwork } from "@cairn/network";
import { readKeyFile } from "@cairn/node";
import { type BlockSpec, garbageSigner, junkTxs, proposal, proposalMessage, voteMessage } from "./byzantine.ts";

const { values } = parseArgs({
  options: {
    home: { type: "string" },
    attacks: { type: "string", default: "" },
    "duration-ms": { type: "string", default: "600000" },
  },
});
const home = values.home as string;
const attacks = new Set((values.attacks as string).split(",").filter(Boolean));
const say = (event: string, data: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...data })}\n`);

const genesis = JSON.parse(readFileSync(join(home, "genesis.json"), "utf8"));
const config = JSON.parse(readFileSync(join(home, "config.json"), "utf8"));
const chainId = genesis.chainId as string;
const key = await readKeyFile(join(home, "keys", "validator.json"));
const signer = createNativeSigner(key.secretKey, key.publicKey);
const forged = garbageSigner(key.publicKey);
const self = toHex(key.publicKey);
const validators: Validator[] = genesis.validators.map((v: { publicKey: string; power: number; name: string }) => ({
  publicKey: Uint8Array.from(Buffer.from(v.publicKey, "hex")),
  power: v.power,
  name: v.name,
}));
const proposer = proposerSchedule(validators);
const maxBlockTxs = (genesis.params?.maxBlockTxs as number | undefined) ?? 10_000;

const net = await createNetwork(
  {},
  {
    chainId,
    keyFile: join(home, "keys", "peer.key"),
    listen: [config.p2p.listen],
    members: genesis.members.map((m: { peerId: string }) => m.peerId),
    bootstrap: config.p2p.bootstrap,
  },
);
// A silent sync peer: block requests hang until the requester gives up.
await net.handle(BLOCK_SYNC_PROTOCOL, () => new Promise<Uint8Array>(() => {}));
await net.handle("consensus-resend", () => new Uint8Array(0));
say("started", { attacks: [...attacks], peerId: net.peerId });

// What the honest nodes are deciding, learnt from their messages.
let height = 1;
let round = 0;
const proposedFor = new Set<string>();
const flooded = new Set<number>();
let reasonTurn = 0;
let conflictTurns = 0;
const REASONS = ["BAD_EXECUTION", "TOO_MANY_TXS", "BAD_TX_SIGNATURE", "WRONG_HEIGHT", "BAD_PARENT"] as const;

/** The committed block at `h` and its certificate, from a peer (the chain at h - 1 is the parent). */
async function parentOf(h: number): Promise<Pick<BlockSpec, "parent" | "lastCommit"> | undefined> {
  if (h === 1) {
    // Height 1's parent is genesis: its hash is in any honest proposal's header; ask a peer's block 1 later.
    return undefined;
  }
  for (const peer of net.peers()) {
    try {
      const res = decodeBlocksResponse(
        await net.request(peer, BLOCK_SYNC_PROTOCOL, encodeBlocksRequest(h - 1, 1), { timeoutMs: 1_000 }),
      );
      const got = res[0];
      if (got !== undefined && got.block.header.height === h - 1) {
        return { parent: { hash: blockHash(got.block.header), time: got.block.header.time }, lastCommit: got.commit };
      }
    } catch {
      // try the next peer
    }
  }
  return undefined;
}

/** Our turn at (h, r): send what the attacks say instead of an honest proposal. */
async function propose(h: number, r: number): Promise<void> {
  const id = `${h}/${r}`;
  if (proposedFor.has(id) || !equalKey(proposer(h, r).publicKey)) return;
  proposedFor.add(id);
  // Give the peers a moment to commit h - 1, then fetch it (for an honest-looking parent link).
  await new Promise((res) => setTimeout(res, 30));
  const parent = await parentOf(h);
  if (parent === undefined) return;
  const base: BlockSpec = { chainId, height: h, round: r, ...parent };
  // With both attacks, turns alternate between them.
  const turn = reasonTurn + conflictTurns;
  if (attacks.has("conflicting") && (!attacks.has("invalid-proposals") || turn % 2 === 1)) {
    conflictTurns++;
    for (const p of [proposal(signer, base), proposal(signer, base)]) await publish(proposalMessage(p));
    say("conflicting-proposal", { height: h, round: r });
    return;
  }
  if (attacks.has("invalid-proposals")) {
    const reason = REASONS[reasonTurn++ % REASONS.length]!;
    const spec: BlockSpec =
      reason === "TOO_MANY_TXS"
        ? { ...base, txs: junkTxs(chainId, maxBlockTxs + 1, true).map((t) => t.bytes) }
        : reason === "BAD_TX_SIGNATURE"
          ? { ...base, txs: junkTxs(chainId, 3, true).map((t) => t.bytes) }
          : reason === "WRONG_HEIGHT"
            ? { ...base, headerHeight: h + 5 }
            : reason === "BAD_PARENT"
              ? { ...base, parent: { hash: new Uint8Array(32).fill(9), time: base.parent.time } }
              : base;
    await publish(proposalMessage(proposal(signer, spec)));
    say("invalid-proposal", { height: h, round: r, reason });
  }
}

function equalKey(k: Uint8Array): boolean {
  return toHex(k) === self;
}

async function publish(bytes: Uint8Array): Promise<void> {
  await net.publish("consensus", bytes).catch(() => {});
}

net.subscribe("consensus", (bytes) => {
  let m: ReturnType<typeof decodeConsensusMessage>;
  try {
    m = decodeConsensusMessage(bytes);
  } catch {
    return;
  }
  const h = m.kind === "proposal" ? m.proposal.height : m.vote.height;
  const r = m.kind === "proposal" ? m.proposal.round : m.vote.round;
  if (h > height || (h === height && r > round)) {
    height = h;
    round = r;
  }
  if (m.kind === "vote" && m.vote.type === VoteType.precommit) {
    // A precommit at (h, r): height h + 1 may be ours to propose, or, when it is nil (round r
    // failed), the next round of h.
    if (m.vote.blockHash.every((b) => b === 0)) void propose(h, r + 1);
    else void propose(h + 1, 0);
  }
  if (attacks.has("evidence-flood") && !flooded.has(h)) {
    flooded.add(h);
    for (let k = 0; k < 10; k++) {
      for (const hash of [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]) {
        void publish(
          voteMessage(chainId, signer, { type: VoteType.prevote, height: h, round: r + k, blockHash: hash }),
        );
      }
    }
    say("evidence-flood", { height: h });
  }
});

let futureRound = 0;
const timer = setInterval(() => {
  if (attacks.has("future-garbage")) void publish(voteMessage(chainId, forged, { height: height + 2, round: 0 }));
  if (attacks.has("future-signed")) {
    void publish(voteMessage(chainId, signer, { height: height + 2, round: futureRound }));
  }
  if (attacks.has("future-proposals")) {
    const p = proposal(signer, {
      chainId,
      height: height + 2 + (futureRound % 3),
      round: futureRound,
      parent: { hash: new Uint8Array(32), time: 0 },
      lastCommit: null,
      padTo: 1024 * 1024,
    });
    void publish(proposalMessage(p));
  }
  if (attacks.has("resend-garbage")) {
    const [bytes] = encodeResendBatches([voteMessage(chainId, forged, { height, round })]);
    for (const peer of net.peers())
      void net.request(peer, "consensus-resend", bytes as Uint8Array, { timeoutMs: 1_000 }).catch(() => {});
  }
  futureRound++;
}, 100);

const stop = async () => {
  clearInterval(timer);
  await net.stop();
  say("stopped");
  process.exit(0);
};
setTimeout(() => void stop(), Number(values["duration-ms"]));
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
