// One suite every ConsensusEngine passes (as js-libp2p's interface-compliance-tests do for
// transports): it commits, never commits a transaction twice, restarts from its database, stops
// cleanly and reports its status. Run against solo and Tendermint (test/integration/
// engine-compliance.test.ts); a new engine gets a harness and the same suite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConsensusEngine,
  createBftEngine,
  createRaftEngine,
  createSoloEngine,
  type HardState,
  type RaftEntry,
  type SafetyRecord,
  verifyCommit,
} from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { generateKeyPair, type KeyPair, toHex } from "@cairn/crypto";
import { createNativeSigner, nativeVerify, VerifyPool } from "@cairn/crypto/native";
import { createLedger, type ExecutedBlock, type Genesis, type Ledger, parseGenesis } from "@cairn/ledger";
import { Mempool } from "@cairn/mempool";
import { blockHash, decodeTransaction, type SignedTransaction, signTransaction } from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { afterEach, describe, expect, it } from "vitest";
import { MessageBus, verifyTxsWith } from "./bus.ts";
import { until } from "./wait.ts";

/** One validator under test: its ledger on a real LevelDB, its mempool and its engine. */
export interface EngineNode {
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly engine: ConsensusEngine;
}

/** A running set of validators of one engine kind. */
export interface EngineUnderTest {
  readonly nodes: readonly EngineNode[];
  /** Signed kv puts from a genesis admin, `tag` making their keys unique. */
  txs(count: number, tag: string): SignedTransaction[];
  /** Stops every engine and closes every database, then opens them again from disk and starts. */
  restart(): Promise<void>;
  /** Stops engines, closes databases, removes the directories. */
  close(): Promise<void>;
}

export type EngineHarness = () => Promise<EngineUnderTest>;

async function committedHashes(ledger: Ledger): Promise<string[]> {
  const out: string[] = [];
  for (let h = 1; h <= ledger.head().height; h++) {
    const b = await ledger.getBlock(h);
    for (const t of b?.txs ?? []) out.push(toHex(decodeTransaction(t).hash));
  }
  return out;
}

async function submitAll(u: EngineUnderTest, txs: readonly SignedTransaction[]): Promise<void> {
  // Every validator's mempool gets them, as gossip would deliver them.
  for (const n of u.nodes) {
    const results = await n.mempool.add(txs.map((t) => t.bytes));
    expect(results.every((r) => r.ok)).toBe(true);
  }
}

async function allCommitted(u: EngineUnderTest, txs: readonly SignedTransaction[]): Promise<void> {
  const want = txs.map((t) => toHex(t.hash));
  try {
    await until(
      async () => {
        for (const n of u.nodes) {
          const have = new Set(await committedHashes(n.ledger));
          if (!want.every((h) => have.has(h))) return false;
        }
        return true;
      },
      20_000,
      `${want.length} transactions committed on every validator`,
    );
  } catch (err) {
    // Where each validator stands, to tell a stalled engine from a lost transaction.
    const state = u.nodes.map((n, i) => ({
      node: i,
      head: n.ledger.head().height,
      pending: n.mempool.size,
      status: n.engine.status(),
    }));
    throw new Error(`${(err as Error).message}; validators: ${JSON.stringify(state)}`);
  }
}

/** Registers the suite for one engine. */
export function engineComplianceSuite(name: string, harness: EngineHarness): void {
  describe(`ConsensusEngine compliance: ${name}`, () => {
    let u: EngineUnderTest | undefined;
    afterEach(async () => {
      await u?.close();
      u = undefined;
    });

    it("commits submitted transactions, the same blocks on every validator, each with a valid certificate", async () => {
      u = await harness();
      const txs = u.txs(20, "commit");
      await submitAll(u, txs);
      await allCommitted(u, txs);
      const first = u.nodes[0] as EngineNode;
      const height = Math.min(...u.nodes.map((n) => n.ledger.head().height));
      for (let h = 1; h <= height; h++) {
        const hashes = await Promise.all(u.nodes.map(async (n) => (await n.ledger.getBlock(h))?.header));
        const ref = hashes[0];
        expect(ref).toBeDefined();
        for (const header of hashes) expect(header?.stateRoot).toEqual(ref?.stateRoot);
        const commit = await first.ledger.getCommit(h);
        const block = await first.ledger.getBlock(h);
        expect(commit).toBeDefined();
        expect(block).toBeDefined();
        if (commit === undefined || block === undefined) continue;
        expect(() =>
          verifyCommit(
            first.ledger.chainId,
            commit,
            blockHash(block.header),
            first.ledger.validators(),
            nativeVerify,
            first.ledger.consensus,
          ),
        ).not.toThrow();
      }
    });

    it("never commits a transaction twice, and empties the mempools of what it committed", async () => {
      u = await harness();
      const txs = u.txs(30, "once");
      await submitAll(u, txs);
      // The same transactions again: a replay must be refused or, if admitted, never executed twice.
      for (const n of u.nodes) await n.mempool.add(txs.slice(0, 10).map((t) => t.bytes));
      await allCommitted(u, txs);
      for (const n of u.nodes) {
        const hashes = await committedHashes(n.ledger);
        expect(new Set(hashes).size).toBe(hashes.length);
        await until(() => n.mempool.size === 0, 20_000, "the mempool to drain");
      }
    });

    it("restarts from its database: the chain is kept and grows from its head", async () => {
      u = await harness();
      const before = u.txs(10, "before");
      await submitAll(u, before);
      await allCommitted(u, before);
      const heads = u.nodes.map((n) => n.ledger.head().height);
      const hashes = await Promise.all(u.nodes.map((n) => n.ledger.getBlock(n.ledger.head().height)));
      await u.restart();
      u.nodes.forEach((n, i) => {
        expect(n.ledger.head().height).toBeGreaterThanOrEqual(heads[i] as number);
      });
      for (const [i, n] of u.nodes.entries()) {
        const again = await n.ledger.getBlock(heads[i] as number);
        expect(again?.header.stateRoot).toEqual(hashes[i]?.header.stateRoot);
      }
      const after = u.txs(10, "after");
      await submitAll(u, after);
      await allCommitted(u, after);
      for (const n of u.nodes) {
        const all = await committedHashes(n.ledger);
        expect(new Set(all).size).toBe(all.length);
      }
    });

    it("stops cleanly: stop() resolves, the status says so, and nothing commits afterwards", async () => {
      u = await harness();
      const txs = u.txs(5, "stop");
      await submitAll(u, txs);
      await allCommitted(u, txs);
      await Promise.all(u.nodes.map((n) => n.engine.stop()));
      for (const n of u.nodes) expect(n.engine.status().step).toBe("stopped");
      const heights = u.nodes.map((n) => n.ledger.head().height);
      for (const n of u.nodes) await n.mempool.add(u.txs(3, "late").map((t) => t.bytes));
      await new Promise((r) => setTimeout(r, 500));
      expect(u.nodes.map((n) => n.ledger.head().height)).toEqual(heights);
      // A second stop is harmless.
      await Promise.all(u.nodes.map((n) => n.engine.stop()));
    });

    it("reports its status: its name, the height it decides, its round and step, not halted", async () => {
      u = await harness();
      const txs = u.txs(3, "status");
      await submitAll(u, txs);
      await allCommitted(u, txs);
      for (const n of u.nodes) {
        const s = n.engine.status();
        expect(s.engine).toBe(n.engine.name);
        expect(typeof s.step).toBe("string");
        expect(s.step).not.toBe("stopped");
        expect(s.height).toBeGreaterThanOrEqual(n.ledger.head().height);
        expect(s.height).toBeLessThanOrEqual(n.ledger.head().height + 1);
        expect(Number.isInteger(s.round) && s.round >= 0).toBe(true);
        expect(s.halted).toBeUndefined();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Harnesses: solo (one validator) and Tendermint (four, over an in-memory message bus).

interface Slot {
  readonly dir: string;
  readonly key: KeyPair;
  db?: Database;
  node?: EngineNode;
  /** The BFT safety record survives a restart, as the node's file does. */
  readonly saved: SafetyRecord[];
  /** Raft's term, vote and log survive a restart, as the node's database does. */
  raft?: { hard: HardState; log: Map<number, RaftEntry> };
}

function genesisFor(keys: readonly KeyPair[], admin: KeyPair, chainId: string, consensus?: "raft"): Genesis {
  return parseGenesis({
    chainId,
    ...(consensus === undefined ? {} : { consensus }),
    genesisTime: Date.now(),
    validators: keys.map((k, i) => ({ name: `v${i}`, publicKey: toHex(k.publicKey), power: 1 })),
    admins: [toHex(admin.publicKey)],
  });
}

function harnessOf(
  validators: number,
  chainId: string,
  consensus: "raft" | undefined,
  makeEngine: (ctx: {
    slot: Slot;
    index: number;
    ledger: Ledger;
    mempool: Mempool;
    pool: VerifyPool;
    bus: MessageBus;
  }) => ConsensusEngine,
): EngineHarness {
  return async () => {
    const keys = Array.from({ length: validators }, () => generateKeyPair());
    const admin = generateKeyPair();
    const genesis = genesisFor(keys, admin, chainId, consensus);
    const pool = new VerifyPool({ workers: 0 });
    const bus = new MessageBus();
    const slots: Slot[] = keys.map((key) => ({
      dir: mkdtempSync(join(tmpdir(), "cairn-compliance-")),
      key,
      saved: [],
    }));
    const nodes: EngineNode[] = [];
    const open = async () => {
      nodes.length = 0;
      for (const [index, slot] of slots.entries()) {
        slot.db = await openDatabase(slot.dir);
        const ledger = await createLedger({ db: slot.db, genesis, contracts: createNativeRegistry(), sync: false });
        const mempool = new Mempool({ admission: ledger, verifier: pool, maxTxBytes: genesis.params.maxTxBytes });
        slot.node = { ledger, mempool, engine: makeEngine({ slot, index, ledger, mempool, pool, bus }) };
        nodes.push(slot.node);
      }
      // All at once, as a cluster's processes start: a validator started after the others decided
      // would have to catch up first.
      await Promise.all(nodes.map((n) => n.engine.start()));
    };
    const shut = async () => {
      for (const n of nodes) await n.engine.stop();
      for (const s of slots) await s.db?.close();
    };
    await open();
    const enc = new TextEncoder();
    return {
      nodes,
      txs: (count, tag) =>
        Array.from({ length: count }, (_, i) =>
          signTransaction(
            {
              chainId,
              sender: admin.publicKey,
              nonce: crypto.getRandomValues(new Uint8Array(16)),
              expiry: 900,
              contract: "kv",
              method: "put",
              args: [enc.encode(`${tag}${i}`), enc.encode("v")],
            },
            admin.secretKey,
          ),
        ),
      async restart() {
        await shut();
        await open();
      },
      async close() {
        await shut();
        await pool.close();
        for (const s of slots) rmSync(s.dir, { recursive: true, force: true });
      },
    };
  };
}

export const soloHarness: EngineHarness = harnessOf(1, "compliance-solo", undefined, ({ slot, ledger, mempool }) =>
  createSoloEngine<ExecutedBlock>(
    { ledger, mempool, signer: createNativeSigner(slot.key.secretKey, slot.key.publicKey) },
    { blockInterval: 20, maxBlockTxs: 1000, maxBlockBytes: 4 * 1024 * 1024 },
  ),
);

/** Tendermint with `validators` validators on one message bus. */
const tendermintHarnessOf = (validators: number): EngineHarness =>
  harnessOf(validators, `compliance-bft-${validators}`, undefined, ({ slot, index, ledger, mempool, pool, bus }) => {
    const id = `v${index}`;
    bus.serveBlocks(id, ledger);
    return createBftEngine<ExecutedBlock>(
      {
        ledger,
        mempool,
        signer: createNativeSigner(slot.key.secretKey, slot.key.publicKey),
        transport: bus.transport(id),
        // As a node: a validator that missed a height's decision catches up by block sync.
        sync: bus.blockSource(id),
        safety: { load: async () => slot.saved.at(-1) ?? null, save: async (r) => void slot.saved.push(r) },
        verify: nativeVerify,
        verifyTxs: verifyTxsWith(pool),
      },
      { retransmitMs: 500, maxBlockTxs: 1000, maxBlockBytes: 4 * 1024 * 1024 },
    );
  });

export const tendermintHarness: EngineHarness = tendermintHarnessOf(4);
/** A lone Tendermint validator: it decides each height inside the last one's effects (and must still stop). */
export const tendermintSoloHarness: EngineHarness = tendermintHarnessOf(1);

/** Raft with `validators` validators on one message bus; term, vote and log kept across restarts. */
const raftHarnessOf = (validators: number): EngineHarness =>
  harnessOf(validators, `compliance-raft-${validators}`, "raft", ({ slot, index, ledger, mempool, pool, bus }) => {
    slot.raft ??= { hard: { term: 0, votedFor: null }, log: new Map() };
    const disk = slot.raft;
    return createRaftEngine<ExecutedBlock>(
      {
        ledger,
        mempool,
        signer: createNativeSigner(slot.key.secretKey, slot.key.publicKey),
        transport: bus.transport(`v${index}`),
        store: {
          load: async () => ({ hard: disk.hard, entries: [...disk.log.values()].sort((a, b) => a.height - b.height) }),
          save: async (hard, truncateFrom, append) => {
            disk.hard = hard;
            if (truncateFrom !== undefined)
              for (const h of [...disk.log.keys()]) if (h >= truncateFrom) disk.log.delete(h);
            for (const e of append) disk.log.set(e.height, e);
          },
          compact: async (height) => {
            for (const h of [...disk.log.keys()]) if (h <= height) disk.log.delete(h);
          },
        },
        verify: nativeVerify,
        verifyTxs: verifyTxsWith(pool),
      },
      {
        maxBlockTxs: 1000,
        maxBlockBytes: 4 * 1024 * 1024,
        electionTimeoutMs: 300,
        electionTimeoutMaxMs: 600,
        heartbeatMs: 50,
      },
    );
  });

export const raftHarness: EngineHarness = raftHarnessOf(3);
/** A lone Raft validator: it leads at once and commits on its own acknowledgement. */
export const raftSoloHarness: EngineHarness = raftHarnessOf(1);
