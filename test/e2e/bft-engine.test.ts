// Four validators, each with its own LevelDB ledger, mempool and BFT engine, exchanging consensus
// messages over an in-memory bus: they commit the same blocks with the same state roots, and each
// block's certificate holds more than two thirds of the votes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BftEngine,
  type ConsensusTransport,
  createBftEngine,
  type SafetyRecord,
  serveBlocks,
  verifyCommit,
} from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { generateKeyPair, type KeyPair, toHex } from "@cairn/crypto";
import { createNativeSigner, nativeVerify, VerifyPool } from "@cairn/crypto/native";
import { createLedger, type ExecutedBlock, type Ledger, parseGenesis } from "@cairn/ledger";
import { Mempool } from "@cairn/mempool";
import { blockHash, type SignedTransaction, signTransaction, txSigningBytes } from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { afterAll, describe, expect, it } from "vitest";

interface TestNode {
  key: KeyPair;
  db: Database;
  ledger: Ledger;
  mempool: Mempool;
  engine: BftEngine<ExecutedBlock>;
  saved: SafetyRecord[];
}

const dirs: string[] = [];
const nodes: TestNode[] = [];
const pool = new VerifyPool({ workers: 0 });
const adminKey = generateKeyPair();

afterAll(async () => {
  for (const n of nodes) await n.engine.stop();
  for (const n of nodes) await n.db.close();
  await pool.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Delivers every broadcast to every other node, asynchronously, like gossip. */
function bus() {
  const handlers = new Map<number, (m: Uint8Array, from: string) => Promise<unknown>>();
  return (i: number): ConsensusTransport => ({
    broadcast(message) {
      for (const [j, h] of handlers)
        if (j !== i) setTimeout(() => void h(message, String(i)), 1 + Math.floor(Math.random() * 5));
    },
    onMessage(handler) {
      handlers.set(i, handler);
      return () => handlers.delete(i);
    },
  });
}

describe("BFT engine with real ledgers", () => {
  it("four validators commit identical blocks with verifiable certificates", { timeout: 60_000 }, async () => {
    const keys = Array.from({ length: 4 }, () => generateKeyPair());
    const admin = adminKey;
    const genesis = parseGenesis({
      chainId: "bft-test",
      genesisTime: Date.now(),
      validators: keys.map((k, i) => ({ name: `v${i}`, publicKey: toHex(k.publicKey), power: 1 })),
      admins: [toHex(admin.publicKey)],
    });
    const net = bus();
    for (let i = 0; i < 4; i++) {
      const dir = mkdtempSync(join(tmpdir(), "cairn-bft-"));
      dirs.push(dir);
      const db = await openDatabase(dir);
      const ledger = await createLedger({ db, genesis, contracts: createNativeRegistry(), sync: false });
      const mempool = new Mempool({ admission: ledger, verifier: pool, maxTxBytes: genesis.params.maxTxBytes });
      const saved: SafetyRecord[] = [];
      const key = keys[i] as KeyPair;
      const engine = createBftEngine<ExecutedBlock>(
        {
          ledger,
          mempool,
          signer: createNativeSigner(key.secretKey, key.publicKey),
          transport: net(i),
          safety: { load: async () => saved.at(-1) ?? null, save: async (r) => void saved.push(r) },
          verify: nativeVerify,
          // A node that started after the first proposal went out (the bus does not replay it)
          // catches up by block sync, as real nodes do, instead of staying at height 1.
          sync: {
            peers: () => nodes.filter((x) => x.key !== key).map((x) => toHex(x.key.publicKey)),
            request: async (peer, request) => {
              const from = nodes.find((x) => toHex(x.key.publicKey) === peer);
              if (from === undefined) throw new Error(`no peer ${peer}`);
              return serveBlocks(from.ledger, request);
            },
          },
          verifyTxs: async (txs) =>
            (
              await pool.verifyBatch(
                txs.map((t) => ({ publicKey: t.tx.sender, message: txSigningBytes(t.body), signature: t.signature })),
              )
            ).every(Boolean),
        },
        { retransmitMs: 1000, emptyBlockInterval: 60_000 },
      );
      nodes.push({ key, db, ledger, mempool, engine, saved });
    }
    for (const n of nodes) await n.engine.start();

    // The same transactions reach every mempool (as transaction gossip will do).
    const enc = new TextEncoder();
    const txs: SignedTransaction[] = Array.from({ length: 40 }, (_, i) => {
      const nonce = new Uint8Array(16);
      new DataView(nonce.buffer).setUint32(0, i + 1);
      return signTransaction(
        {
          chainId: "bft-test",
          sender: admin.publicKey,
          nonce,
          expiry: 500,
          contract: "kv",
          method: "put",
          args: [enc.encode(`k${i}`), enc.encode(`v${i}`)],
        },
        admin.secretKey,
      );
    });
    for (const n of nodes) await n.mempool.add(txs.map((t) => t.bytes));

    const deadline = Date.now() + 45_000;
    const allCommitted = async () => {
      for (const n of nodes) for (const t of txs) if ((await n.ledger.findTx(t.hash)) === undefined) return false;
      return true;
    };
    while (!(await allCommitted())) {
      if (Date.now() > deadline)
        throw new Error(`not all committed: heights ${nodes.map((n) => n.ledger.head().height)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const height = Math.min(...nodes.map((n) => n.ledger.head().height));
    expect(height).toBeGreaterThanOrEqual(1);
    for (let h = 1; h <= height; h++) {
      const hashes = new Set<string>();
      for (const n of nodes) {
        const b = await n.ledger.getBlock(h);
        hashes.add(toHex(b!.header.stateRoot) + toHex(b!.header.txRoot) + toHex(b!.header.prevHash));
        const c = await n.ledger.getCommit(h);
        expect(() =>
          verifyCommit("bft-test", c!, blockHash(b!.header), genesis.validators, nativeVerify),
        ).not.toThrow();
        expect(c!.signatures.length).toBeGreaterThanOrEqual(3);
      }
      expect(hashes.size, `height ${h}`).toBe(1);
    }
    // Idle: no stream of empty blocks once the mempools are empty.
    await new Promise((r) => setTimeout(r, 300));
    const idle = nodes.map((n) => n.ledger.head().height);
    await new Promise((r) => setTimeout(r, 1000));
    expect(nodes.map((n) => n.ledger.head().height)).toEqual(idle);
    // Every validator persisted its safety record before voting.
    for (const n of nodes) expect(n.saved.length).toBeGreaterThan(0);
  });

  it("keeps committing with one validator stopped (round changes when it is the proposer)", {
    timeout: 60_000,
  }, async () => {
    const down = nodes[3] as TestNode;
    await down.engine.stop();
    const live = nodes.slice(0, 3);
    const start = Math.max(...live.map((n) => n.ledger.head().height));
    const admin = adminKey;
    const enc = new TextEncoder();
    // Enough heights that the stopped validator's turn to propose comes up.
    for (let round = 0; round < 5; round++) {
      const nonce = new Uint8Array(16);
      new DataView(nonce.buffer).setUint32(0, 1000 + round);
      const t = signTransaction(
        {
          chainId: "bft-test",
          sender: admin.publicKey,
          nonce,
          expiry: 500,
          contract: "kv",
          method: "put",
          args: [enc.encode(`late${round}`), enc.encode("x")],
        },
        admin.secretKey,
      );
      for (const n of live) await n.mempool.add([t.bytes]);
      const deadline = Date.now() + 20_000;
      while (!live.every((n) => n.mempool.size === 0)) {
        if (Date.now() > deadline) throw new Error(`stuck at heights ${live.map((n) => n.ledger.head().height)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const end = Math.min(...live.map((n) => n.ledger.head().height));
    expect(end).toBeGreaterThanOrEqual(start + 5);
    const roots = new Set(live.map((n) => toHex(n.ledger.head().stateRoot)));
    expect(roots.size).toBe(1);
  });
});
