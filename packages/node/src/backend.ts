import { EventEmitter } from "node:events";
import type {
  ApiBackend,
  BlockView,
  CommittedBlockEvent,
  ContractView,
  EvidenceView,
  NodeStatus,
  QueryRequest,
  QueryResult,
  StateView,
  SubmitResult,
  TxLookup,
} from "@cairn/api";
import type { ConsensusEngine } from "@cairn/consensus";
import { equalBytes, toHex } from "@cairn/crypto";
import type { ExecutedBlock, Ledger } from "@cairn/ledger";
import type { Mempool } from "@cairn/mempool";
import { blockHash, type Commit, decode, type Value } from "@cairn/messaging";

export interface BackendComponents {
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly consensus: ConsensusEngine;
  readonly nodeId: Uint8Array;
  readonly moniker: string;
  readonly version: string;
  /** Told about transactions this node admitted from its API (the node gossips them to peers). */
  readonly onAccepted?: (envelopes: Uint8Array[]) => void;
  /** Connected network peers (none without a network). */
  readonly peers?: () => readonly string[];
  /** Equivocation evidence seen by the consensus engine. */
  readonly evidence?: () => readonly EvidenceView[];
}

/**
 * The node's answer to the API's questions: reads go to the ledger, the mempool and consensus;
 * commits are announced to subscribers and to requests waiting for their transactions.
 */
export class NodeBackend implements ApiBackend {
  private readonly c: BackendComponents;
  private readonly events = new EventEmitter();
  /** tx hash hex → callbacks of requests waiting for it to commit. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private running = true;

  constructor(components: BackendComponents) {
    this.c = components;
    // Every API stream subscribes here; the default limit of 10 would warn under normal use.
    this.events.setMaxListeners(0);
  }

  /** Called by consensus after each durable commit. */
  onCommit(executed: ExecutedBlock, commit: Commit): void {
    for (const stx of executed.txs) {
      const hex = toHex(stx.hash);
      const w = this.waiters.get(hex);
      if (w !== undefined) {
        this.waiters.delete(hex);
        for (const f of w) f();
      }
    }
    // Transactions dropped as expired also end their waits.
    for (const [hex, w] of this.waiters) {
      if (this.c.mempool.rejection(Uint8Array.from(Buffer.from(hex, "hex"))) !== undefined) {
        this.waiters.delete(hex);
        for (const f of w) f();
      }
    }
    const view: BlockView = { block: executed.block, hash: executed.hash, receipts: executed.receipts, commit };
    this.events.emit("block", { view } satisfies CommittedBlockEvent);
  }

  stop(): void {
    this.running = false;
    for (const w of this.waiters.values()) for (const f of w) f();
    this.waiters.clear();
  }

  status(): NodeStatus {
    const { ledger, mempool, consensus } = this.c;
    const head = ledger.head();
    const cs = consensus.status();
    return {
      chainId: ledger.chainId,
      nodeId: toHex(this.c.nodeId),
      moniker: this.c.moniker,
      version: this.c.version,
      height: head.height,
      blockHash: head.hash,
      stateRoot: head.stateRoot,
      blockTime: head.height === 0 ? 0 : head.time,
      genesisHash: ledger.genesisHash,
      validators: ledger.validators(),
      mempool: { size: mempool.size, bytes: mempool.bytes, maxSize: mempool.maxSize },
      consensus: { engine: cs.engine, round: cs.round, step: cs.step },
      maxTxTtl: ledger.genesis.params.maxTxTtl,
      peers: this.c.peers?.() ?? [],
    };
  }

  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    const results = await this.c.mempool.add(txs);
    if (this.c.onAccepted !== undefined) {
      const accepted = txs.filter((_, i) => results[i]?.ok === true);
      if (accepted.length > 0) this.c.onAccepted(accepted);
    }
    return results;
  }

  async getTx(hash: Uint8Array): Promise<TxLookup> {
    const committed = await this.c.ledger.getCommittedTx(hash);
    if (committed !== undefined) {
      return {
        status: "committed",
        tx: committed.tx,
        height: committed.location.height,
        index: committed.location.index,
        blockHash: committed.blockHash,
        receipt: committed.receipt,
        proof: committed.proof,
      };
    }
    const pending = this.c.mempool.get(hash);
    if (pending !== undefined) return { status: "pending", tx: pending };
    const rejected = this.c.mempool.rejection(hash);
    if (rejected !== undefined) return { status: "rejected", code: rejected.code, message: rejected.message };
    // It may have committed between the two looks.
    return (await this.c.ledger.findTx(hash)) === undefined ? { status: "unknown" } : this.getTx(hash);
  }

  async waitForCommit(hashes: readonly Uint8Array[], timeoutMs: number): Promise<TxLookup[]> {
    return Promise.all(hashes.map((h) => this.waitOne(h, timeoutMs)));
  }

  private async waitOne(hash: Uint8Array, timeoutMs: number): Promise<TxLookup> {
    const hex = toHex(hash);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Register before looking, so a commit between the look and the wait is not missed.
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      let set = this.waiters.get(hex);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(hex, set);
      }
      set.add(wake);
      const lookup = await this.getTx(hash);
      const left = deadline - Date.now();
      if (lookup.status !== "pending" || left <= 0 || !this.running) {
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(hex);
        return lookup;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(hex) === set) this.waiters.delete(hex);
    }
  }

  async getBlock(height: number | "latest"): Promise<BlockView | undefined> {
    const { ledger } = this.c;
    const h = height === "latest" ? ledger.head().height : height;
    if (!Number.isSafeInteger(h) || h < 1) return undefined;
    const [block, receipts, commit] = await Promise.all([
      ledger.getBlock(h),
      ledger.getReceipts(h),
      ledger.getCommit(h),
    ]);
    if (block === undefined) return undefined;
    return { block, hash: blockHash(block.header), receipts: receipts ?? [], commit: commit ?? null };
  }

  async query(req: QueryRequest): Promise<QueryResult> {
    const { ledger } = this.c;
    const args = decode(req.args) as Value[];
    // As in getState: a commit during the query would mix two states, so run it again.
    for (;;) {
      const head = ledger.head();
      const r = await ledger.query(req.contract, req.method, args);
      if (!equalBytes(ledger.head().hash, head.hash)) continue;
      if (!r.ok) return { ok: false, code: r.code, message: r.message, gasUsed: r.gasUsed, height: r.height };
      return { ok: true, output: r.outputBytes, gasUsed: r.gasUsed, height: r.height };
    }
  }

  async getContract(name: string): Promise<ContractView | undefined> {
    const info = await this.c.ledger.contract(name);
    if (info === undefined || info.kind === "native") return info;
    const { kind, methods, codeHash, version, deployer, deployedAt, updatedAt, codeSize } = info;
    return { name, kind, methods, codeHash, version, deployer, deployedAt, updatedAt, codeSize };
  }

  async getState(contract: string, key: Uint8Array): Promise<StateView> {
    const { ledger } = this.c;
    // A commit may land between reading the value and building the proof: retry until both
    // were read against the same root, so the proof always matches the reported root.
    for (;;) {
      const head = ledger.head();
      const [value, proof] = await Promise.all([ledger.state.get(contract, key), ledger.state.prove(contract, key)]);
      if (equalBytes(ledger.head().hash, head.hash)) {
        return { value, height: head.height, stateRoot: head.stateRoot, proof };
      }
    }
  }

  subscribe(listener: (event: CommittedBlockEvent) => void): () => void {
    this.events.on("block", listener);
    return () => this.events.off("block", listener);
  }

  evidence(): readonly EvidenceView[] {
    return this.c.evidence?.() ?? [];
  }

  healthy(): boolean {
    return this.running;
  }
}
