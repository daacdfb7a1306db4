// In-process BFT clusters for engine tests: each validator has its own LevelDB ledger, mempool and
// BFT engine; consensus messages travel over an in-memory bus, and block sync over an in-memory
// BlockSource that tests can make slow or silent. A validator can be left out of the engines so a
// test can speak for it (a Byzantine validator).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BftEngine,
  type BftEngineOptions,
  type BlockSource,
  type ConsensusEvidence,
  createBftEngine,
  encodeBlocksRequest,
  type MessageVerdict,
  proposerSchedule,
  type SafetyRecord,
  type SafetyStore,
  serveBlocks,
} from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { generateKeyPair, type KeyPair, toHex } from "@cairn/crypto";
import { createNativeSigner, nativeVerify, VerifyPool } from "@cairn/crypto/native";
import { createLedger, type ExecutedBlock, type Genesis, type Ledger, parseGenesis } from "@cairn/ledger";
import { Mempool } from "@cairn/mempool";
import { type SignedTransaction, signTransaction } from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { MessageBus, until, verifyTxsWith } from "@cairn/test-utils";

export interface EngineNode {
  readonly id: string;
  readonly key: KeyPair;
  readonly db: Database;
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly engine: BftEngine<ExecutedBlock>;
  readonly saved: SafetyRecord[];
  readonly evidence: ConsensusEvidence[];
  /** Peers this node reported to the network's scoring, with the reason. */
  readonly penalized: { peer: string; reason: string }[];
  /** Block requests this node sent, by peer. */
  readonly syncRequests: Map<string, number>;
  /** Set when the engine halted (storage failure). */
  halted?: Error;
  /** Hands a message to the node's engine as if `from` sent it; resolves to the engine's verdict. */
  deliver(message: Uint8Array, from: string): Promise<MessageVerdict>;
}

export interface EngineCluster {
  readonly chainId: string;
  readonly genesis: Genesis;
  readonly keys: readonly KeyPair[];
  readonly admin: KeyPair;
  readonly nodes: EngineNode[];
  /** The index of the validator left out by `absentProposerOf`, else -1. */
  readonly byzantine: number;
  /** The in-memory network the engines' messages travel on. */
  readonly bus: MessageBus;
  /** Peer ids block sync may ask; by default every node's id. */
  syncPeers: (self: string) => string[];
  /** Answers block requests to `peer` (default: that node serves from its ledger). */
  serve: (peer: string, request: Uint8Array) => Promise<Uint8Array>;
  kvTxs(n: number, tag: string): SignedTransaction[];
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly validators?: number;
  /** Indexes of validators that get no engine (a test speaks for them). */
  readonly absent?: readonly number[];
  /** Also leave out the validator that proposes at this height and round (its index is `byzantine`). */
  readonly absentProposerOf?: { readonly height: number; readonly round: number };
  readonly engine?: Partial<BftEngineOptions>;
  readonly maxBlockTxs?: number;
  readonly chainId?: string;
  /** Replaces a node's safety store (say, with one whose disk is full). */
  readonly safety?: (id: string, saved: SafetyRecord[]) => SafetyStore | undefined;
}

export async function startEngineCluster(opts: ClusterOptions = {}): Promise<EngineCluster> {
  const n = opts.validators ?? 4;
  const chainId = opts.chainId ?? "bft-byz";
  const keys = Array.from({ length: n }, () => generateKeyPair());
  const admin = generateKeyPair();
  const genesis = parseGenesis({
    chainId,
    genesisTime: Date.now(),
    validators: keys.map((k, i) => ({ name: `v${i}`, publicKey: toHex(k.publicKey), power: 1 })),
    admins: [toHex(admin.publicKey)],
    ...(opts.maxBlockTxs === undefined ? {} : { params: { maxBlockTxs: opts.maxBlockTxs } }),
  });
  let byzantine = -1;
  if (opts.absentProposerOf !== undefined) {
    const { height, round } = opts.absentProposerOf;
    const p = proposerSchedule(genesis.validators)(height, round);
    byzantine = keys.findIndex((k) => toHex(k.publicKey) === toHex(p.publicKey));
  }
  const absent = new Set([...(opts.absent ?? []), ...(byzantine >= 0 ? [byzantine] : [])]);
  const pool = new VerifyPool({ workers: 0 });
  const dirs: string[] = [];
  const bus = new MessageBus();
  const nodes: EngineNode[] = [];
  const cluster: EngineCluster = {
    chainId,
    genesis,
    keys,
    admin,
    nodes,
    byzantine,
    bus,
    syncPeers: (self) => nodes.map((x) => x.id).filter((id) => id !== self),
    serve: async (peer, request) => {
      const node = nodes.find((x) => x.id === peer);
      if (node === undefined) throw new Error(`no peer ${peer}`);
      return serveBlocks(node.ledger, request);
    },
    kvTxs(count, tag) {
      const enc = new TextEncoder();
      return Array.from({ length: count }, (_, i) => {
        const nonce = crypto.getRandomValues(new Uint8Array(16));
        return signTransaction(
          {
            chainId,
            sender: admin.publicKey,
            nonce,
            expiry: 900,
            contract: "kv",
            method: "put",
            args: [enc.encode(`${tag}${i}`), enc.encode("v")],
          },
          admin.secretKey,
        );
      });
    },
    async close() {
      for (const x of nodes) await x.engine.stop();
      for (const x of nodes) await x.db.close();
      await pool.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < n; i++) {
    if (absent.has(i)) continue;
    const id = `v${i}`;
    const dir = mkdtempSync(join(tmpdir(), "cairn-bft-byz-"));
    dirs.push(dir);
    const db = await openDatabase(dir);
    const ledger = await createLedger({ db, genesis, contracts: createNativeRegistry(), sync: false });
    const mempool = new Mempool({ admission: ledger, verifier: pool, maxTxBytes: genesis.params.maxTxBytes });
    const key = keys[i] as KeyPair;
    const saved: SafetyRecord[] = [];
    const evidence: ConsensusEvidence[] = [];
    const penalized: { peer: string; reason: string }[] = [];
    const syncRequests = new Map<string, number>();
    const source: BlockSource = {
      peers: () => cluster.syncPeers(id),
      request: (peer, request, timeoutMs) => {
        syncRequests.set(peer, (syncRequests.get(peer) ?? 0) + 1);
        return new Promise<Uint8Array>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          cluster.serve(peer, request).then(
            (r) => {
              clearTimeout(t);
              resolve(r);
            },
            (e) => {
              clearTimeout(t);
              reject(e);
            },
          );
        });
      },
      penalize: (peer, reason) => void penalized.push({ peer, reason }),
    };
    const engine = createBftEngine<ExecutedBlock>(
      {
        ledger,
        mempool,
        signer: createNativeSigner(key.secretKey, key.publicKey),
        transport: bus.transport(id),
        safety: opts.safety?.(id, saved) ?? {
          load: async () => saved.at(-1) ?? null,
          save: async (r) => void saved.push(r),
        },
        onHalt: (err) => {
          const node = nodes.find((x) => x.id === id);
          if (node !== undefined) node.halted = err;
        },
        verify: nativeVerify,
        verifyTxs: verifyTxsWith(pool),
        onEvidence: (e) => void evidence.push(e),
        sync: source,
      },
      {
        retransmitMs: 1000,
        emptyBlockInterval: 60_000,
        maxBlockTxs: genesis.params.maxBlockTxs,
        maxBlockBytes: genesis.params.maxBlockBytes,
        ...opts.engine,
      },
    );
    nodes.push({
      id,
      key,
      db,
      ledger,
      mempool,
      engine,
      saved,
      evidence,
      penalized,
      syncRequests,
      // A stopped engine takes nothing (a test's attack loop may outlive a failed test's cluster).
      deliver: (m, from) => bus.deliver(id, m, from),
    });
  }
  for (const x of nodes) await x.engine.start();
  return cluster;
}

/** Resolves once every node's ledger holds every one of `txs`; fails after `ms` with the nodes' heights. */
export async function committedEverywhere(
  c: EngineCluster,
  txs: readonly SignedTransaction[],
  ms = 30_000,
): Promise<void> {
  const all = async () => {
    for (const node of c.nodes) for (const t of txs) if ((await node.ledger.findTx(t.hash)) === undefined) return false;
    return true;
  };
  try {
    await until(all, ms, "every transaction committed on every node", 50);
  } catch (err) {
    throw new Error(`${(err as Error).message}; heights ${c.nodes.map((n) => n.ledger.head().height)}`);
  }
}

export { until } from "./wait.ts";
export { encodeBlocksRequest, nativeVerify };
