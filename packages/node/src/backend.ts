import { EventEmitter } from "node:events";
import type {
  ApiBackend,
  BlockView,
  CollectionView,
  CommittedBlockEvent,
  ContractView,
  EvidenceQuery,
  EvidenceView,
  GovIdentityView,
  GovParamsView,
  IdentityView,
  MetricsExposition,
  NodeRecordView,
  NodeStatus,
  OrganizationView,
  PrivateHashView,
  ProposalFilter,
  ProposalView,
  QueryRequest,
  QueryResult,
  ReadAccess,
  Readiness,
  Refused,
  StateView,
  SubmitResult,
  TxLookup,
  TxTraceView,
  ValidatorScheduleView,
} from "@cairn/api";
import type { ConsensusEngine } from "@cairn/consensus";
import { PRIVATE_CONTRACT, privateStateKey } from "@cairn/contracts";
import { equalBytes, toHex } from "@cairn/crypto";
import type { ExecutedBlock, Ledger } from "@cairn/ledger";
import type { LogLine, NodeMetrics, RecentBuffer, TxTracer } from "@cairn/management";
import type { AdmissionGate, Mempool } from "@cairn/mempool";
import {
  blockHash,
  type Commit,
  type ConsensusEventData,
  decode,
  LOG_LINE_LEVELS,
  type LogLineLevel,
  namesPrivateWrites,
  type PrivateWrite,
  privateKeyHash,
  type Value,
} from "@cairn/messaging";
import * as gov from "./gov-views.ts";
import type { PrivateDataService } from "./private-data.ts";

export interface BackendComponents {
  readonly ledger: Ledger;
  /** Private data on the wire (absent: the node refuses private submissions). */
  readonly privateData?: PrivateDataService;
  readonly mempool: Mempool;
  readonly consensus: ConsensusEngine;
  readonly nodeId: Uint8Array;
  readonly moniker: string;
  readonly version: string;
  /** Told about transactions this node admitted from its API, and their hashes (hex); the node gossips them. */
  readonly onAccepted?: (envelopes: Uint8Array[], hashes: string[]) => void;
  /** Connected network peers (none without a network). */
  readonly peers?: () => readonly string[];
  /** The network's member set (none without a network). */
  readonly members?: () => readonly string[];
  /** Whether block sync runs now and when it last brought in blocks (never, without a network). */
  readonly sync?: () => { catchingUp: boolean; lastCaughtUpAt?: number };
  /** Evidence of misbehaviour recorded by the consensus engine. */
  readonly evidence?: {
    list(query: EvidenceQuery): { readonly items: readonly EvidenceView[]; readonly total: number };
    get(id: string): Promise<EvidenceView | undefined>;
  };
  /** With no commit for this long (ms), the node reports STALLED (default 60 s). */
  readonly stallMs?: number;
  /** The node's metrics: admission rejects are recorded here (commits by the block executor's telemetry). */
  readonly metrics?: NodeMetrics;
  /** Journeys of the transactions that reached this node's mempool (GET /txs/:hash/trace). */
  readonly tracer?: TxTracer;
  /** The consensus engine's recent events (GET /consensus/events). */
  readonly consensusEvents?: RecentBuffer<ConsensusEventData>;
  /** Recent log lines, info and above (GET /logs). */
  readonly logs?: RecentBuffer<LogLine>;
}

/**
 * Readiness of a node (GET /ready), from what it can see of itself. Reasons, each a stable code:
 * SHUTTING_DOWN (the node is stopping), CONSENSUS_STOPPED (the engine is not running),
 * TOO_FEW_PEERS (with a network: this node and its connected member peers are not more than 2/3 of
 * the member set, so it cannot take part in a quorum), CATCHING_UP (block sync is fetching blocks it
 * missed). A node without a network (solo) is ready once started.
 */
export function assessReadiness(s: {
  readonly running: boolean;
  readonly consensusStep: string;
  /** Connected peers and the member set (this node included); absent without a network. */
  readonly network?: { readonly peers: readonly string[]; readonly members: readonly string[] };
  readonly catchingUp: boolean;
  /** Heights between this node's head and the highest a validator's signed message showed. */
  readonly behindBy?: number;
  /** Set when no block committed for longer than the stall limit. */
  readonly stalled?: boolean;
}): { ready: boolean; reasons: string[]; reachable?: number; members?: number; needed?: number } {
  const reasons: string[] = [];
  if (!s.running) reasons.push("SHUTTING_DOWN");
  if (s.consensusStep === "stopped") reasons.push("CONSENSUS_STOPPED");
  if (s.consensusStep === "halted") reasons.push("STORAGE_FAILED");
  if ((s.behindBy ?? 0) > 2) reasons.push("BEHIND");
  if (s.stalled === true) reasons.push("STALLED");
  let quorum: { reachable: number; members: number; needed: number } | undefined;
  if (s.network !== undefined) {
    const members = new Set(s.network.members);
    // This node plus the connected peers that are members (the gater admits nobody else).
    const reachable = 1 + s.network.peers.filter((p) => members.has(p)).length;
    const total = Math.max(members.size, 1);
    const needed = Math.floor((2 * total) / 3) + 1;
    quorum = { reachable, members: total, needed };
    if (reachable < needed) reasons.push("TOO_FEW_PEERS");
  }
  if (s.catchingUp) reasons.push("CATCHING_UP");
  return { ready: reasons.length === 0, reasons, ...quorum };
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
  /** When this node last committed a block (or started), for STALLED. */
  private lastCommitAt = Date.now();

  constructor(components: BackendComponents) {
    this.c = components;
    // Every API stream subscribes here; the default limit of 10 would warn under normal use.
    this.events.setMaxListeners(0);
  }

  /** Called by the block executor after each durable commit (by consensus or block sync). */
  onCommit(executed: ExecutedBlock, commit: Commit): void {
    this.lastCommitAt = Date.now();
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
    const validators = ledger.validators();
    const peers = this.c.peers?.() ?? [];
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
      validators,
      mempool: { size: mempool.size, bytes: mempool.bytes, maxSize: mempool.maxSize },
      consensus: {
        engine: cs.engine,
        height: cs.height,
        round: cs.round,
        step: cs.step,
        ...(cs.raft === undefined ? {} : { raft: cs.raft }),
      },
      ...(cs.clockOffsetMs === undefined ? {} : { clock: { offsetMs: Math.round(cs.clockOffsetMs) } }),
      maxTxTtl: ledger.genesis.params.maxTxTtl,
      peers,
      network: { peers: peers.length, members: this.c.members?.().length ?? 0 },
      sync: this.c.sync?.() ?? { catchingUp: false },
      role: validators.some((v) => equalBytes(v.publicKey, this.c.nodeId)) ? "validator" : "observer",
    };
  }

  consensusEvents(after: number, limit: number) {
    const b = this.c.consensusEvents;
    return b === undefined ? { last: 0, events: [] } : { last: b.last, events: b.since(after, limit) };
  }

  logs(after: number, limit: number, filter: { readonly layer?: string; readonly level?: LogLineLevel }) {
    const b = this.c.logs;
    if (b === undefined) return { last: 0, lines: [] };
    const rank = (level: LogLineLevel) => LOG_LINE_LEVELS.indexOf(level);
    const least = filter.level === undefined ? 0 : rank(filter.level);
    const keep = (l: LogLine) => (filter.layer === undefined || l.layer === filter.layer) && rank(l.level) >= least;
    return { last: b.last, lines: b.since(after, limit, keep) };
  }

  txTrace(hash: Uint8Array): TxTraceView | undefined {
    const j = this.c.tracer?.journey(toHex(hash));
    if (j === undefined || j.marks.length === 0) return undefined;
    // Tracer times are performance.now() milliseconds; the API gives wall-clock microseconds.
    const origin = performance.timeOrigin;
    return {
      ...(j.height === undefined ? {} : { height: j.height }),
      points: j.marks.map((m) => ({ point: m.point, timeUs: Math.round((origin + m.at) * 1000) })),
    };
  }

  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    // A transaction naming private writes must come with their plaintext, or no member would hold it.
    const named = txs.map(namesPrivateWrites);
    if (!named.includes(true)) return this.admit(txs);
    const admitted = await this.admit(txs.filter((_, i) => !named[i]));
    let next = 0;
    return named.map((isPrivate) =>
      isPrivate
        ? {
            ok: false,
            code: "PRIVATE_DATA_REQUIRED",
            message: "this transaction names private writes: submit it with their plaintext to POST /txs/private",
          }
        : (admitted[next++] as SubmitResult),
    );
  }

  /** Admits envelopes to the mempool (through `gate`, when given) and gossips those it took. */
  private async admit(txs: readonly Uint8Array[], gate?: AdmissionGate): Promise<SubmitResult[]> {
    const results = await this.c.mempool.add(txs, gate === undefined ? {} : { gate });
    const m = this.c.metrics;
    if (m !== undefined) {
      for (const r of results) if (!r.ok) m.ledger.txsRejected.inc({ code: r.code });
    }
    if (this.c.onAccepted !== undefined) {
      const accepted = txs.filter((_, i) => results[i]?.ok === true);
      const hashes = results.flatMap((r) => (r.ok ? [toHex(r.hash)] : []));
      if (accepted.length > 0) this.c.onAccepted(accepted, hashes);
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

  evidence(query: EvidenceQuery): { items: readonly EvidenceView[]; total: number } {
    return this.c.evidence?.list(query) ?? { items: [], total: 0 };
  }

  evidenceById(id: string): Promise<EvidenceView | undefined> {
    return this.c.evidence?.get(id) ?? Promise.resolve(undefined);
  }

  /** Alive and able to keep what it is asked to: false once a storage failure halted consensus. */
  healthy(): boolean {
    return this.running && this.c.consensus.status().step !== "halted";
  }

  readAccess(): ReadAccess {
    return this.c.ledger.genesis.readAccess ?? "open";
  }

  /** From the committed registry: the same answer the ledger gives at admission. */
  identity(publicKey: Uint8Array): IdentityView | undefined {
    const id = this.c.ledger.registry.identity(publicKey);
    return id === undefined ? undefined : { org: id.org, roles: id.roles, active: id.active };
  }

  readiness(): Readiness {
    const members = this.c.members?.();
    const cs = this.c.consensus.status();
    const head = this.c.ledger.head().height;
    const r = assessReadiness({
      running: this.running,
      consensusStep: cs.step,
      ...(members === undefined ? {} : { network: { peers: this.c.peers?.() ?? [], members } }),
      catchingUp: this.c.sync?.().catchingUp === true,
      behindBy: cs.peerHeight === undefined ? 0 : cs.peerHeight - head - 1,
      // A solo chain rests while idle; a BFT chain makes an empty block at least every interval.
      stalled: cs.engine !== "solo" && Date.now() - this.lastCommitAt > (this.c.stallMs ?? 60_000),
    });
    const { ready, reasons, ...quorum } = r;
    return { ready, reasons, details: { height: this.c.ledger.head().height, ...quorum } };
  }

  // Governance reads (GET /gov/*), from the committed registry and proposal records (gov-views.ts).
  govProposals(filter: ProposalFilter): Promise<readonly ProposalView[]> {
    return gov.listProposals(this.c.ledger, filter);
  }

  govProposal(id: number): Promise<ProposalView | undefined> {
    return gov.getProposal(this.c.ledger, id);
  }

  govOrganizations(): readonly OrganizationView[] {
    return gov.organizations(this.c.ledger.registry);
  }

  govIdentity(publicKey: Uint8Array): GovIdentityView | undefined {
    return gov.identity(this.c.ledger.registry, publicKey);
  }

  govValidators(): ValidatorScheduleView {
    return gov.validators(this.c.ledger);
  }

  govNodes(): readonly NodeRecordView[] {
    return gov.nodes(this.c.ledger.registry);
  }

  govParams(): GovParamsView | undefined {
    return gov.params(this.c.ledger.registry);
  }

  govCollections(): readonly CollectionView[] {
    return this.c.ledger.registry.collections;
  }

  async submitPrivate(envelope: Uint8Array, writes: readonly PrivateWrite[]): Promise<SubmitResult> {
    if (this.c.privateData === undefined) {
      return { ok: false, code: "NOT_FOUND", message: "this node does not take private data" };
    }
    const [result] = await this.admit([envelope], this.c.privateData.gate(writes));
    return result as SubmitResult;
  }

  async privateData(collection: string, key: Uint8Array, reader: Uint8Array) {
    const { ledger } = this.c;
    const registry = ledger.registry;
    const c = registry.collection(collection);
    if (c === undefined) return refuse("NO_SUCH_COLLECTION", `no collection named ${collection}`);
    if (!ledger.privateData.isMember(c)) {
      const org = ledger.privateData.organization() ?? "none";
      return refuse(
        "NOT_A_MEMBER",
        `this node (organisation ${org}) is not a member of collection ${collection} and holds only hashes: ask a node of ${c.members.join(" or ")}`,
      );
    }
    if (c.memberOnlyRead && !registry.isCollectionMember(c, reader)) {
      return refuse(
        "NOT_A_MEMBER",
        `collection ${collection} is read only by identities of ${c.members.join(", ")}; GET /private/${collection}/KEY/hash gives its hash`,
      );
    }
    const keyHash = privateKeyHash(collection, key);
    const [record, committed] = await Promise.all([
      ledger.privateData.get(collection, keyHash),
      ledger.state.get(PRIVATE_CONTRACT, privateStateKey(collection, keyHash)),
    ]);
    if (committed === undefined) return refuse("KEY_NOT_FOUND", `collection ${collection} has no such key`);
    if (record === undefined || !equalBytes(record.valueHash, committed)) {
      return refuse(
        "PRIVATE_NOT_HELD",
        `this node does not hold the plaintext of that key's committed value: it was purged (blockToLive or a purge transaction), or the node is still fetching it from other members`,
      );
    }
    return {
      ok: true as const,
      collection,
      key,
      keyHash,
      value: record.write.value,
      salt: record.write.salt,
      valueHash: record.valueHash,
      height: record.height,
      txHash: record.txHash,
      ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    };
  }

  async privateHash(collection: string, key: Uint8Array): Promise<PrivateHashView | Refused> {
    const { ledger } = this.c;
    if (ledger.registry.collection(collection) === undefined) {
      return refuse("NO_SUCH_COLLECTION", `no collection named ${collection}`);
    }
    const keyHash = privateKeyHash(collection, key);
    const valueHash = await ledger.state.get(PRIVATE_CONTRACT, privateStateKey(collection, keyHash));
    return { collection, keyHash, valueHash, height: ledger.head().height };
  }

  async metrics(): Promise<MetricsExposition> {
    if (this.c.metrics === undefined) throw Object.assign(new Error("this node has no metrics"), { code: "NOT_FOUND" });
    return this.c.metrics.scrape();
  }
}

function refuse(code: string, message: string): Refused {
  return { ok: false, code, message };
}
