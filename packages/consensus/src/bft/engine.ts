import { equalBytes, toHex } from "@cairn/crypto";
import {
  BLOCK_OVERHEAD_BYTES,
  type Block,
  blockHash,
  type Commit,
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_MAX_BLOCK_TXS,
  decodeBlock,
  decodeTransaction,
  encodeBlock,
  type SignedTransaction,
  VoteType,
} from "@cairn/messaging";
import { ConsensusError, StorageFailure, signatureMemory, type VerifyFn, verifyCommit } from "../commit.ts";
import { BlockExecutor } from "../executor.ts";
import type { ConsensusEventReport, ConsensusTelemetry } from "../metrics.ts";
import type { SyncedBlock, SyncLedgerPort } from "../sync/block-sync.ts";
import { BlockFetcher, type BlockFetcherOptions, type BlockSource } from "../sync/fetcher.ts";
import {
  type CommitListener,
  type ConsensusEngine,
  type ConsensusStatus,
  type ExecutedBlockView,
  type Logger,
  type MempoolPort,
  type Signer,
  validatorsOf,
} from "../types.ts";
import { bodyMatchesHeader, type ConsensusEvidence, InvalidProposalReason, proposalHeader } from "./evidence.ts";
import { FutureBuffer } from "./future.ts";
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  isNil,
  type Proposal,
  proposalSigningBytes,
  type Vote,
  voteBytes,
} from "./messages.ts";
import { defaultTendermintOptions, stepTimeoutMs, type TendermintOptions } from "./options.ts";
import { proposerSchedule } from "./proposer.ts";
import type { SafetyRecord } from "./record.ts";
import { createTendermint, type Effect, RejectCode, type Tendermint, type TendermintStatus } from "./tendermint.ts";

// The BFT engine: runs the Tendermint state machine (./tendermint.ts) against the real ledger,
// mempool, a transport and a durable safety store. The machine decides; this adapter does the I/O
// in the order the machine asks for it.

/**
 * What the engine made of a peer's message, for the transport's peer scoring: "reject" for what no
 * honest node sends or relays (malformed, badly signed, from a non-validator, a proposal from the
 * wrong proposer), "ignore" for what is merely useless here (too far ahead), "accept" otherwise.
 */
export type MessageVerdict = "accept" | "reject" | "ignore";

/** How consensus messages travel (gossip on the network layer, or an in-memory bus in tests). */
export interface ConsensusTransport {
  broadcast(message: Uint8Array): void;
  /**
   * Sends messages again straight to every peer (retransmission), as few requests per peer as their
   * size allows. Gossip de-duplicates by content, so a second broadcast of the same bytes reaches
   * nobody; without `resend`, each is broadcast.
   */
  resend?(messages: readonly Uint8Array[]): void;
  /** `handler` resolves once the machine has taken the message in. */
  onMessage(handler: (message: Uint8Array, from: string) => Promise<MessageVerdict>): () => void;
}

/** Machine rejections that prove the sender (author or relay) broke the protocol. */
const PUNISHED: ReadonlySet<string> = new Set<RejectCode>([
  RejectCode.malformed,
  RejectCode.badSignature,
  RejectCode.notValidator,
  RejectCode.notProposer,
  RejectCode.badBlockHash,
]);

/** The verdict on a message from the effects the machine returned for it. */
export function verdictOf(effects: readonly Effect[]): MessageVerdict {
  let verdict: MessageVerdict = "accept";
  for (const e of effects) {
    if (e.type !== "reject") continue;
    if (PUNISHED.has(e.code)) return "reject";
    verdict = "ignore";
  }
  return verdict;
}

/** Durable storage of the machine's safety record: `save` resolves only once it is on disk. */
export interface SafetyStore {
  load(): Promise<SafetyRecord | null>;
  save(record: SafetyRecord): Promise<void>;
}

export interface BftEngineComponents<E extends ExecutedBlockView> {
  readonly ledger: SyncLedgerPort<E>;
  readonly mempool: MempoolPort;
  readonly signer: Signer;
  readonly transport: ConsensusTransport;
  readonly safety: SafetyStore;
  readonly verify: VerifyFn;
  /** Checks the signatures of a proposed block's transactions (those the mempool verified may be skipped). */
  readonly verifyTxs: (txs: readonly SignedTransaction[]) => Promise<boolean>;
  readonly logger?: Logger;
  readonly onCommit?: CommitListener<E>;
  /** Applies blocks (the node shares one with start-up sync); built from ledger and mempool when absent. */
  readonly executor?: BlockExecutor<E>;
  readonly telemetry?: ConsensusTelemetry;
  /** Called once per piece of evidence (duplicate votes, conflicting or invalid proposals); awaited. */
  readonly onEvidence?: (evidence: ConsensusEvidence) => void | Promise<void>;
  /**
   * Where missed blocks come from (block sync). The engine catches up in the background, never in
   * its queue, when a validly signed message shows a validator is more than one height ahead.
   */
  readonly sync?: BlockSource;
  /** Told when a catch-up starts and ends (`advanced`: it committed blocks). */
  readonly onSync?: (running: boolean, advanced: boolean) => void;
  /**
   * Called once when the engine halts on a storage failure (its safety record or a block could not
   * be written): it takes no further part in consensus, as if it had crashed.
   */
  readonly onHalt?: (err: Error) => void;
}

export interface BftEngineOptions {
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  /**
   * Proposer-based timestamps: a fresh proposal whose block time is more than this ahead of this
   * node's clock when it arrives is not timely, and this node prevotes nil in that round (ms).
   */
  readonly maxClockDrift: number;
  /** ...or more than this behind it (message delay and execution included) (ms). */
  readonly maxProposalAge: number;
  /** Re-send this validator's messages of the current height when it has not advanced for this long (ms). */
  readonly retransmitMs: number;
  /**
   * With an empty mempool after a commit, wait this long for a transaction (or a validator's
   * signed message for the next height) before starting it, so an idle chain makes an empty block
   * only this often instead of as fast as it can vote (CometBFT's create_empty_blocks_interval).
   */
  readonly emptyBlockInterval: number;
  /**
   * Least time from the start of one height to the start of the next (ms): after a quick commit
   * the engine waits out the rest before the next height (CometBFT's timeout_commit). Every block
   * costs each validator a fixed ~12 ms of CPU (messages, signatures, the safety record), so
   * back-to-back blocks of a few transactions spend the cores on blocks instead of transactions;
   * a height that takes longer than this is not slowed at all. 0: none.
   */
  readonly minBlockInterval: number;
  /**
   * The share of its round's propose timeout a proposer may spend executing its block (0 to 1]:
   * past it, the block holds the transactions executed so far and the rest wait for the next. On
   * a busy node a full block can take longer to execute than the timeout, and a proposal that
   * arrives late loses the round for everyone; the remaining share covers hashing the state,
   * signing and delivery. A validator's check of the block takes about as long as the build.
   */
  readonly proposeBudget: number;
  /** Heights above the one being decided whose messages are kept for later. */
  readonly futureHeights: number;
  /** Messages of later heights kept per validator. */
  readonly futureMessagesPerValidator: number;
  /** Proposal bytes of later heights kept per validator (default: twice maxBlockBytes). */
  readonly futureBytesPerValidator?: number;
  /** Proposals for rounds further ahead of this node's round are dropped (a retransmission brings them again). */
  readonly maxProposalRoundsAhead: number;
  /** Least time between two catch-ups that found nothing (ms). */
  readonly syncCooldownMs: number;
  readonly fetcher?: Partial<BlockFetcherOptions>;
  /** The state machine's step timeouts (default: defaultTendermintOptions). */
  readonly timeouts?: Partial<TendermintOptions>;
  /**
   * Teaching mode: wait this long before sending each of this validator's proposals and votes, so a
   * class can follow every step in the console (default 0; keep it well below the timeouts).
   */
  readonly stepPaceMs?: number;
}

export const defaultBftEngineOptions: BftEngineOptions = {
  // A node passes its chain's params; these are the chain defaults, for an engine used alone.
  maxBlockTxs: DEFAULT_MAX_BLOCK_TXS,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
  maxClockDrift: 2_000,
  maxProposalAge: 10_000,
  retransmitMs: 2_000,
  emptyBlockInterval: 10_000,
  minBlockInterval: 120,
  proposeBudget: 0.5,
  futureHeights: 4,
  futureMessagesPerValidator: 64,
  maxProposalRoundsAhead: 2,
  syncCooldownMs: 500,
};

/** Why a proposal failed validation, and whether the failure is the proposer's provable fault. */
interface Invalid {
  readonly reason: string;
  /** Set when the block the proposer signed breaks a rule anyone can re-check (evidence). */
  readonly evidence?: InvalidProposalReason;
  /** Whether the peer that delivered it should be penalised. */
  readonly punish: boolean;
}

const heightOf = (m: ConsensusMessage) => (m.kind === "proposal" ? m.proposal.height : m.vote.height);
const authorOf = (m: ConsensusMessage) => (m.kind === "proposal" ? m.proposal.proposer : m.vote.validator);

const voteName = (v: Vote): "prevote" | "precommit" => (v.type === VoteType.prevote ? "prevote" : "precommit");

/** The worse of two verdicts. */
function worse(a: MessageVerdict, b: MessageVerdict): MessageVerdict {
  if (a === "reject" || b === "reject") return "reject";
  if (a === "ignore" || b === "ignore") return "ignore";
  return "accept";
}

export class BftEngine<E extends ExecutedBlockView> implements ConsensusEngine {
  readonly name = "tendermint";
  private readonly c: BftEngineComponents<E>;
  private readonly opts: BftEngineOptions;
  private readonly timeouts: TendermintOptions;
  /** The components' check, answering a signature it already found valid, or made, from memory (parent certificates). */
  private readonly verify: VerifyFn;
  /** The components' signer, whose signatures `verify` then knows. */
  private readonly signer: Signer;
  private machine: Tendermint | undefined;
  /** Serialises every input to the machine and the I/O of its effects. */
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Block hash hex → executed block, for proposals of the current height that passed validation. */
  private readonly executed = new Map<string, E>();
  /** Block hash hex → why the proposal is invalid (null: valid). */
  private readonly validity = new Map<string, Invalid | null>();
  /** Authenticated messages of later heights, bounded per validator. */
  private readonly future: FutureBuffer;
  /** This validator's messages at the current height, for retransmission. */
  private sent: Uint8Array[] = [];
  /** The next retransmission's wait counts from here: the last commit, or the last retransmission. */
  private retransmitFrom = Date.now();
  /** Retransmissions since the last commit (each doubles the wait). */
  private retransmits = 0;
  /** When this node last started a height after a commit (minBlockInterval counts from it). */
  private heightStartedAt = 0;
  private unsubscribe: (() => void) | undefined;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private running = false;
  private wakeIdle: (() => void) | undefined;
  private readonly fetcher: BlockFetcher | undefined;
  private syncing = false;
  private lastSyncEnd = 0;
  /** The highest height a validator's validly signed message showed, for readiness. */
  private peerHeight = 0;
  /** When a far-future message of each validator was last checked (its signature is not checked more often). */
  private readonly farChecked = new Map<string, number>();
  private halted: Error | undefined;
  /** Block hash hex → [block time, arrival time on this node's clock] of this height's proposals. */
  private readonly arrivals = new Map<string, [number, number]>();
  /** Recent (block time − arrival time) of others' fresh proposals: how far this clock is off theirs. */
  private readonly offsets: number[] = [];
  /** A safety record above the ledger's head: nothing is signed until the head reaches it. */
  private recordAhead: SafetyRecord | undefined;

  private readonly executor: BlockExecutor<E>;
  /** Proposals and votes of this height already in the consensus event log. */
  private readonly reported = new Set<string>();
  /** The machine's status when last observed (step and lock events). */
  private lastStatus: TendermintStatus | undefined;
  /** Blocks of this height this validator voted for (traced once each). */
  private readonly votedFor = new Set<string>();

  constructor(components: BftEngineComponents<E>, options: Partial<BftEngineOptions> = {}) {
    this.c = components;
    this.opts = { ...defaultBftEngineOptions, ...options };
    this.timeouts = { ...defaultTendermintOptions, ...this.opts.timeouts };
    const memory = signatureMemory(components.verify);
    this.verify = memory.verify;
    this.signer = memory.signing(components.signer);
    this.executor = components.executor ?? new BlockExecutor(components);
    if (components.onCommit !== undefined) this.executor.onCommit(components.onCommit);
    this.future = new FutureBuffer({
      heights: this.opts.futureHeights,
      messagesPerValidator: this.opts.futureMessagesPerValidator,
      bytesPerValidator: this.opts.futureBytesPerValidator ?? 2 * this.opts.maxBlockBytes,
    });
    this.fetcher = components.sync === undefined ? undefined : new BlockFetcher(components.sync, this.opts.fetcher);
  }

  async start(): Promise<void> {
    const head = this.c.ledger.head();
    const restore = await this.c.safety.load();
    if (restore !== null && restore.height > head.height + 1) {
      // The database lost blocks this validator had already voted past (a damaged write-ahead
      // log, a restored backup): it follows the chain without signing until it passes its record.
      this.recordAhead = restore;
      this.c.logger?.error(
        { head: head.height, record: restore.height },
        "bft: the database is behind this validator's safety record (it lost committed blocks); catching up from peers, signing nothing until the record's height",
      );
    }
    this.machine = await this.machineForHead(restore);
    this.running = true;
    this.unsubscribe = this.c.transport.onMessage((bytes, from) => this.receive(bytes, from));
    this.retransmitTimer = setInterval(() => this.retransmit(), this.opts.retransmitMs);
    this.enqueue(async () => {
      await this.apply((this.machine as Tendermint).start());
      this.observe("start");
    });
  }

  /**
   * The machine for the height after the ledger's head: restoring `record` at its own height, and
   * only observing while the head is below a record that ran ahead of the database.
   */
  private async machineForHead(record: SafetyRecord | null): Promise<Tendermint> {
    const next = this.c.ledger.head().height + 1;
    const ahead = this.recordAhead;
    if (ahead !== undefined && next < ahead.height) return this.createMachine(null, true);
    this.recordAhead = undefined;
    const rec = ahead ?? record;
    return this.createMachine(rec !== null && rec.height === next ? rec : null, false);
  }

  /** A machine for the height after the ledger's head. */
  private async createMachine(restore: SafetyRecord | null, observe = false): Promise<Tendermint> {
    const { ledger } = this.c;
    const { signer } = this;
    const head = ledger.head();
    return createTendermint(
      {
        chainId: ledger.chainId,
        validators: validatorsOf(ledger, head.height + 1),
        validatorsAt: (height) => validatorsOf(ledger, height),
        self: signer.publicKey,
        height: head.height + 1,
        lastCommit: head.height === 0 ? null : ((await ledger.getCommit(head.height)) ?? null),
        signer,
        verify: this.verify,
        validate: (pb) => this.validity.get(toHex(pb.blockHash)) === null,
        timely: (p) => this.timely(p),
        restore,
        observe,
        ...(this.c.logger === undefined ? {} : { logger: this.c.logger }),
      },
      // The same merged timeouts the proposer's budget is a share of.
      this.timeouts,
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeIdle?.();
    this.unsubscribe?.();
    clearInterval(this.retransmitTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.queue;
  }

  status(): ConsensusStatus {
    const s = this.machine?.status();
    const base = { engine: this.name, height: s?.height ?? 0, round: s?.round ?? 0 };
    if (this.halted !== undefined) return { ...base, step: "halted", halted: this.halted.message };
    return {
      ...base,
      // Stopped, the engine says so (its machine keeps the step it stopped in), as solo does.
      step: this.running ? (s?.step ?? "stopped") : "stopped",
      ...(this.peerHeight > 0 ? { peerHeight: this.peerHeight } : {}),
      ...(this.recordAhead === undefined ? {} : { signsFrom: this.recordAhead.height }),
      ...(this.clockOffset() === undefined ? {} : { clockOffsetMs: this.clockOffset() }),
    };
  }

  /** Messages and bytes buffered for later heights (bounded per validator). */
  buffered(): { messages: number; bytes: number } {
    return this.future.size();
  }

  /** Runs `task` after every task queued before it; `skipped` is called instead once the engine stopped. */
  private enqueue(task: () => Promise<void>, skipped?: () => void): void {
    this.queue = this.queue.then(async () => {
      if (!this.running) {
        skipped?.();
        return;
      }
      try {
        await task();
      } catch (err) {
        if (err instanceof StorageFailure) this.halt(err.cause as Error);
        else this.c.logger?.error({ err }, "bft: step failed");
      }
    });
  }

  /**
   * A write this validator's safety depends on failed (disk full, I/O error): it stops taking part
   * at once, so the others carry on as if it had crashed, rather than half-working and stalling them.
   */
  private halt(err: Error): void {
    if (this.halted !== undefined) return;
    this.halted = err;
    this.running = false;
    this.unsubscribe?.();
    clearInterval(this.retransmitTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.c.logger?.error({ err }, "bft: storage failed; consensus halted on this node (repair the disk, then restart)");
    this.c.onHalt?.(err);
  }

  private receive(bytes: Uint8Array, from: string): Promise<MessageVerdict> {
    if (!this.running) return Promise.resolve("ignore");
    let m: ConsensusMessage;
    try {
      m = decodeConsensusMessage(bytes);
    } catch {
      return Promise.resolve("reject"); // the transport penalises the sender
    }
    // Cheapest check first: no honest proposer sends a block larger than the chain allows.
    if (m.kind === "proposal" && m.proposal.block.length > this.opts.maxBlockBytes + BLOCK_OVERHEAD_BYTES) {
      return Promise.resolve("reject");
    }
    const next = this.c.ledger.head().height + 1;
    const height = heightOf(m);
    if (height > next) return Promise.resolve(this.receiveFuture(m, from, next));
    // Waiting on an idle chain: only a validator's validly signed message of the next height ends it.
    if (height === next && this.wakeIdle !== undefined && this.machine?.authenticate(m) === null) this.wakeIdle();
    return new Promise<MessageVerdict>((resolve) => {
      let verdict: MessageVerdict = "accept";
      this.enqueue(
        async () => {
          try {
            verdict = await this.receiveCurrent(m);
          } finally {
            resolve(verdict);
          }
        },
        () => resolve(verdict),
      );
    });
  }

  /**
   * A message of a later height. It is kept (bounded per validator) only once its author and
   * signature check out, and only then does it count as evidence that this node is behind.
   */
  private receiveFuture(m: ConsensusMessage, from: string, next: number): MessageVerdict {
    const { ledger } = this.c;
    const height = heightOf(m);
    // The set of that height if the ledger knows it yet (it schedules changes 2 heights ahead).
    const set = validatorsOf(ledger, Math.min(height, next + 1));
    const author = authorOf(m);
    if (!set.some((v) => equalBytes(v.publicKey, author))) return "ignore";
    if (this.future.has(m)) return "accept";
    const keep = this.future.wouldKeep(m, next);
    if (!keep) {
      // Beyond the window (or its slot is full): check one such message per validator a second,
      // enough to learn we are behind, never a signature check per message a peer sends.
      const key = toHex(author);
      const last = this.farChecked.get(key) ?? 0;
      if (Date.now() - last < 1_000) return "ignore";
      this.farChecked.set(key, Date.now());
    }
    if (m.kind === "proposal") {
      const p = m.proposal;
      if (height <= next + 1 && !equalBytes(proposerSchedule(set)(height, p.round).publicKey, p.proposer)) {
        return "reject";
      }
      if (!this.verify(p.signature, proposalSigningBytes({ chainId: ledger.chainId, ...p }), p.proposer))
        return "reject";
    } else if (!this.verify(m.vote.signature, voteBytes(ledger.chainId, m.vote), m.vote.validator)) {
      return "reject";
    }
    if (height > this.peerHeight) this.peerHeight = height;
    // A validator signed a message of a later height: it committed blocks we have not.
    this.requestSync(from);
    if (keep) this.future.add(m, next);
    return "accept";
  }

  /** A message of the height being decided (or an earlier one), inside the queue. */
  private async receiveCurrent(m: ConsensusMessage): Promise<MessageVerdict> {
    const machine = this.machine as Tendermint;
    let verdict: MessageVerdict = "accept";
    if (m.kind === "proposal" && m.proposal.height === this.c.ledger.head().height + 1) {
      const p = m.proposal;
      if (p.round > machine.status().round + this.opts.maxProposalRoundsAhead) return "ignore";
      // Who signed it, before anything that costs more (decoding, tx signatures, execution).
      const denied = machine.authenticate(m);
      if (denied !== null) return PUNISHED.has(denied) ? "reject" : "ignore";
      const invalid = await this.prevalidate(p);
      if (invalid !== null) {
        if (invalid.punish) verdict = "reject";
        if (invalid.evidence !== undefined) {
          await this.report({
            kind: "invalid-proposal",
            proposal: proposalHeader(p),
            block: p.block,
            reason: invalid.evidence,
          });
        }
      }
    }
    const deciding = machine.status().height;
    const effects = machine.onMessage(m);
    const own = verdictOf(effects);
    verdict = worse(verdict, own);
    if (own === "accept" && heightOf(m) === deciding) this.reportMessage(m, false);
    await this.apply(effects);
    this.observe(m.kind === "proposal" ? "proposal" : voteName(m.vote));
    return verdict;
  }

  /** Proposer-based timestamps: was the block's time close to this node's clock when it arrived? */
  private timely(p: Proposal): boolean {
    if (equalBytes(p.proposer, this.c.signer.publicKey)) return true;
    const a = this.arrivals.get(toHex(p.blockHash));
    if (a === undefined) return false;
    const [time, arrived] = a;
    return time <= arrived + this.opts.maxClockDrift && time >= arrived - this.opts.maxProposalAge;
  }

  /** How far this node's clock is behind the proposers' (median of recent proposals; ms), if known. */
  clockOffset(): number | undefined {
    if (this.offsets.length === 0) return undefined;
    const sorted = [...this.offsets].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }

  /** A proposal or vote of the height being decided, once each, for the consensus event log. */
  private reportMessage(m: ConsensusMessage, own: boolean): void {
    const e: ConsensusEventReport =
      m.kind === "proposal"
        ? {
            kind: "proposal",
            height: m.proposal.height,
            round: m.proposal.round,
            proposer: toHex(m.proposal.proposer),
            blockHash: toHex(m.proposal.blockHash),
            polRound: m.proposal.polRound,
            own,
          }
        : {
            kind: "vote",
            height: m.vote.height,
            round: m.vote.round,
            type: voteName(m.vote),
            validator: toHex(m.vote.validator),
            blockHash: isNil(m.vote.blockHash) ? null : toHex(m.vote.blockHash),
            own,
          };
    const key =
      e.kind === "proposal" ? `p/${e.round}/${e.blockHash}` : `v/${e.type}/${e.round}/${e.validator}/${e.blockHash}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.executor.telemetry.event(e);
  }

  /** Reports the machine's step (and lock) when an input changed it; `cause` names the input. */
  private observe(cause: string): void {
    const s = this.machine?.status();
    if (s === undefined) return;
    const last = this.lastStatus;
    if (last === undefined || last.height !== s.height || last.round !== s.round || last.step !== s.step) {
      this.executor.telemetry.event({ kind: "step", height: s.height, round: s.round, step: s.step, cause });
    }
    if (s.lockedRound >= 0 && (last === undefined || last.height !== s.height || last.lockedRound !== s.lockedRound)) {
      this.executor.telemetry.event({ kind: "lock", height: s.height, round: s.round, lockedRound: s.lockedRound });
    }
    this.lastStatus = s;
  }

  private async report(e: ConsensusEvidence): Promise<void> {
    this.executor.telemetry.event({ kind: "evidence", height: this.c.ledger.head().height + 1, evidence: e.kind });
    this.c.logger?.warn(
      { kind: e.kind, ...(e.kind === "invalid-proposal" ? { reason: e.reason } : {}) },
      "bft: evidence of a validator's misbehaviour",
    );
    await this.c.onEvidence?.(e);
  }

  /**
   * Legitimate validation of a proposal before the machine may vote for it, cheapest checks first:
   * the block's size and shape, that its body is the one its signed header commits to, the header
   * against our head and the chain's bounds, the parent's certificate, every transaction
   * signature, and last our own execution, which must reproduce the proposed block hash.
   */
  private async prevalidate(p: Proposal): Promise<Invalid | null> {
    const key = toHex(p.blockHash);
    const known = this.validity.get(key);
    if (known !== undefined) return known;
    const result = await this.check(p);
    if (result !== null) {
      this.c.logger?.warn({ height: p.height, round: p.round, reason: result.reason }, "bft: invalid proposal");
    }
    this.validity.set(key, result);
    return result;
  }

  private async check(p: Proposal): Promise<Invalid | null> {
    const { ledger } = this.c;
    const R = InvalidProposalReason;
    // Faults of whoever relayed the bytes (the signature covers only the header's hash).
    const relayFault = (reason: string): Invalid => ({ reason, punish: true });
    const proposerFault = (reason: InvalidProposalReason, why: string): Invalid => ({
      reason: why,
      evidence: reason,
      punish: true,
    });
    let block: Block;
    try {
      block = decodeBlock(p.block);
    } catch (err) {
      return relayFault(`block does not decode: ${(err as Error).message}`);
    }
    const h = block.header;
    if (!equalBytes(blockHash(h), p.blockHash)) return relayFault("header does not match the signed block hash");
    if (!bodyMatchesHeader(block)) return relayFault("body does not match the signed header");
    if (h.height !== p.height) return proposerFault(R.wrongHeight, `header height ${h.height}`);
    if (h.txCount > this.opts.maxBlockTxs) {
      return proposerFault(R.tooManyTxs, `${h.txCount} transactions; the limit is ${this.opts.maxBlockTxs}`);
    }
    const txBytes = block.txs.reduce((n, t) => n + t.length, 0);
    if (txBytes > this.opts.maxBlockBytes) {
      return proposerFault(R.tooManyBytes, `${txBytes} transaction bytes; the limit is ${this.opts.maxBlockBytes}`);
    }
    const head = ledger.head();
    if (!equalBytes(h.prevHash, head.hash)) return proposerFault(R.badParent, "does not extend the committed head");
    if (h.time < head.time) return proposerFault(R.timeBeforeParent, "time is before the parent's");
    // Timeliness (block time against this node's clock) is judged per round by timely(), not here.
    const arrived = Date.now();
    this.arrivals.set(toHex(p.blockHash), [h.time, arrived]);
    if (p.polRound === -1 && h.height === p.height) {
      this.offsets.push(h.time - arrived);
      if (this.offsets.length > 15) this.offsets.shift();
    }
    if (h.height > 1) {
      try {
        if (block.lastCommit === null) throw new Error("no certificate of the parent");
        verifyCommit(ledger.chainId, block.lastCommit, head.hash, validatorsOf(ledger, head.height), this.verify);
      } catch (err) {
        return proposerFault(R.badLastCommit, (err as Error).message);
      }
    }
    let txs: SignedTransaction[];
    try {
      txs = block.txs.map((t) => decodeTransaction(t));
    } catch {
      return proposerFault(R.badTxSignature, "a transaction does not decode");
    }
    if (!(await this.c.verifyTxs(txs)))
      return proposerFault(R.badTxSignature, "a transaction signature does not verify");
    let executed: E;
    try {
      executed = await this.executor.execute({ time: h.time, proposer: h.proposer, txs, lastCommit: block.lastCommit });
    } catch (err) {
      return proposerFault(R.badExecution, (err as Error).message);
    }
    if (!equalBytes(executed.hash, p.blockHash)) {
      return proposerFault(R.badExecution, "executing it gives a different block");
    }
    this.executed.set(toHex(p.blockHash), executed);
    return null;
  }

  private async apply(effects: readonly Effect[]): Promise<void> {
    for (const e of effects) {
      // Stopped (or halted), the input in hand is finished (its safety record and a decided block
      // are still written) but nothing new starts: no message out, no timer, no proposal. A lone
      // validator decides each height inside the last one's effects, so without this its chain
      // would never let stop() return.
      if (!this.running && (e.type === "broadcast" || e.type === "scheduleTimeout" || e.type === "requestValue")) {
        continue;
      }
      switch (e.type) {
        case "persist":
          // Durable before anything after it, above all the broadcast of the vote it records.
          try {
            await this.c.safety.save(e.record);
          } catch (err) {
            throw new StorageFailure(err);
          }
          break;
        case "broadcast": {
          if ((this.opts.stepPaceMs ?? 0) > 0) await new Promise((r) => setTimeout(r, this.opts.stepPaceMs));
          const bytes = encodeConsensusMessage(e.message);
          this.sent.push(bytes);
          this.c.transport.broadcast(bytes);
          this.reportMessage(e.message, true);
          if (e.message.kind === "vote") this.traceVote(e.message.vote);
          break;
        }
        case "scheduleTimeout": {
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.enqueue(async () => {
              const { height, round, step } = e.timeout;
              // A timer of a height or round already left behind changes nothing: not an event.
              const now = (this.machine as Tendermint).status();
              if (now.height === height && now.round === round) {
                this.executor.telemetry.event({ kind: "timeout", height, round, step });
              }
              await this.apply((this.machine as Tendermint).onTimeout(e.timeout));
              this.observe(`timeout ${step}`);
            });
          }, e.timeout.ms);
          this.timers.add(t);
          break;
        }
        case "requestValue":
          // A request of a height the ledger has passed meanwhile (block sync) is moot.
          if (e.height !== this.c.ledger.head().height + 1) break;
          await this.apply(await this.propose(e.height, e.round, e.lastCommit));
          this.observe("own proposal");
          break;
        case "commit":
          await this.commit(e.blockHash, e.block, e.commit);
          this.observe("commit");
          if (this.recordAhead !== undefined && this.c.ledger.head().height + 1 >= this.recordAhead.height) {
            // Caught up to its own record: from here it signs again, restoring what it recorded.
            for (const t of this.timers) clearTimeout(t);
            this.timers.clear();
            this.machine = await this.machineForHead(null);
            this.c.logger?.info(
              { height: this.c.ledger.head().height + 1 },
              "bft: past the safety record; signing again",
            );
            await this.apply(this.machine.start());
            return; // the old machine's remaining effects are moot
          }
          break;
        case "evidence":
          await this.report({ kind: "duplicate-vote", ...e.evidence });
          break;
        case "proposalEvidence":
          await this.report({ kind: "conflicting-proposal", first: e.first, second: e.second });
          break;
        case "reject":
          this.c.logger?.debug({ code: e.code, reason: e.reason }, "bft: message rejected");
          break;
      }
    }
  }

  /** Builds this validator's block: as many ready transactions as fit, executed on our head. */
  private async propose(height: number, round: number, lastCommit: Commit | null): Promise<Effect[]> {
    const { ledger, mempool, signer } = this.c;
    const head = ledger.head();
    if (height !== head.height + 1)
      throw new ConsensusError("BFT_BEHIND", `asked to propose ${height} at head ${head.height}`);
    const started = performance.now();
    const txs = mempool.reap(this.opts.maxBlockTxs, this.opts.maxBlockBytes, height);
    const executed = await this.executor.execute({
      // A clock behind the chain's cannot drag block time back: at worst it proposes just after its parent.
      time: Math.max(Date.now(), head.time + 1),
      proposer: signer.publicKey,
      txs,
      lastCommit,
      fill: true,
      deadline: started + this.opts.proposeBudget * stepTimeoutMs(this.timeouts, "propose", round),
    });
    // Only what the block holds was proposed (the rest wait for a later block), as of the reap.
    this.executor.telemetry.trace("proposed", executed.txs, height, started);
    const key = toHex(executed.hash);
    this.executed.set(key, executed);
    this.validity.set(key, null);
    return (this.machine as Tendermint).proposeValue(height, round, encodeBlock(executed.block));
  }

  private async commit(hash: Uint8Array, block: Uint8Array, commit: Commit): Promise<void> {
    let executed = this.executed.get(toHex(hash));
    if (executed === undefined) {
      // Decided from others' precommits without having executed it here: execute it now.
      const b = decodeBlock(block);
      const txs = b.txs.map((t) => decodeTransaction(t));
      executed = await this.executor.execute({
        time: b.header.time,
        proposer: b.header.proposer,
        txs,
        lastCommit: b.lastCommit,
      });
      if (!equalBytes(executed.hash, hash)) {
        throw new ConsensusError("BFT_DIVERGED", `decided block ${commit.height} does not execute to its hash here`);
      }
    }
    try {
      await this.executor.commit(executed, commit);
      this.executor.telemetry.event({
        kind: "commit",
        height: commit.height,
        round: commit.round,
        blockHash: toHex(hash),
        txs: executed.txs.length,
      });
    } catch (err) {
      // Only the ledger's write throws here (the executor contains its listeners' failures).
      throw new StorageFailure(err);
    }
    this.afterCommit();
    await this.waitForWork();
    // Messages that arrived early for the new height go in as a task of their own, after the
    // effects still to be applied from the decision that led here: fed from inside this commit,
    // they could decide further heights before those effects ran.
    this.enqueue(() => this.feedEarly());
  }

  /** The "voted" trace point: this validator's first vote for a block it executed, once per block. */
  private traceVote(vote: Vote): void {
    if (isNil(vote.blockHash)) return;
    const key = toHex(vote.blockHash);
    const executed = this.executed.get(key);
    if (executed === undefined || this.votedFor.has(key)) return;
    this.votedFor.add(key);
    this.executor.telemetry.trace("voted", executed.txs, vote.height);
  }

  /** The engine's own state after every commit, by consensus or by block sync (the rest is the executor's). */
  private afterCommit(): void {
    this.executed.clear();
    this.votedFor.clear();
    this.reported.clear();
    this.validity.clear();
    this.arrivals.clear();
    this.sent = [];
    this.retransmitFrom = Date.now();
    this.retransmits = 0;
  }

  /** Messages that arrived early for the height now being decided, checked and fed to the machine. */
  private async feedEarly(): Promise<void> {
    const next = this.c.ledger.head().height + 1;
    for (const m of this.future.take(next)) {
      if (!this.running) return;
      await this.receiveCurrent(m);
    }
  }

  /** After a commit: the rest of minBlockInterval, then, on an idle chain, until there is work. */
  private async waitForWork(): Promise<void> {
    const early = this.heightStartedAt + this.opts.minBlockInterval - Date.now();
    if (early > 0 && this.running) await new Promise((r) => setTimeout(r, early));
    await this.waitWhileIdle();
    this.heightStartedAt = Date.now();
  }

  /** With an empty mempool: until a transaction or a validator's message arrives, or emptyBlockInterval passes. */
  private async waitWhileIdle(): Promise<void> {
    if (this.c.mempool.size > 0 || !this.running) return;
    if (this.future.hasHeight(this.c.ledger.head().height + 1)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        this.wakeIdle = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.opts.emptyBlockInterval);
      const off = this.c.mempool.onAdded(done);
      this.wakeIdle = done;
    });
  }

  /**
   * Catches up in the background: fetches blocks outside the queue (a silent peer costs a timeout,
   * never a stalled round), then applies each batch inside the queue like any other input.
   */
  private requestSync(preferred: string): void {
    if (this.fetcher === undefined || this.syncing || !this.running) return;
    if (Date.now() - this.lastSyncEnd < this.opts.syncCooldownMs) return;
    this.syncing = true;
    void this.runSync(this.fetcher, preferred).finally(() => {
      this.syncing = false;
      this.lastSyncEnd = Date.now();
    });
  }

  private async runSync(fetcher: BlockFetcher, preferred: string): Promise<void> {
    const before = this.c.ledger.head().height;
    this.c.onSync?.(true, false);
    try {
      for (let first = true; this.running; first = false) {
        const got = await fetcher.fetch(this.c.ledger.head().height + 1, first ? preferred : undefined);
        if (got === null) break;
        const applied = await new Promise<number>((resolve) => {
          this.enqueue(
            async () => resolve(await this.applySynced(fetcher, got.peer, got.blocks).catch(() => 0)),
            () => resolve(0),
          );
        });
        if (applied === 0) break;
      }
    } finally {
      this.c.onSync?.(false, this.c.ledger.head().height > before);
    }
  }

  /** Commits synced blocks (each certificate and execution checked), then runs consensus from the new head. */
  private async applySynced(fetcher: BlockFetcher, peer: string, blocks: readonly SyncedBlock[]): Promise<number> {
    const { ledger } = this.c;
    const before = ledger.head().height;
    try {
      await this.executor.applySynced(blocks, this.verify);
    } catch (err) {
      // A block whose certificate or execution does not check out: the peer served a bad one.
      this.c.logger?.warn({ peer, err: (err as Error).message }, "bft: block sync from peer failed");
      fetcher.misbehaved(peer, (err as Error).message);
    }
    const head = ledger.head().height;
    if (head === before) return 0;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.afterCommit();
    this.machine = await this.machineForHead(null);
    this.c.logger?.info({ from: before, to: head, peer }, "bft: caught up, resuming consensus");
    await this.apply(this.machine.start());
    await this.feedEarly();
    return head - before;
  }

  /**
   * Gossip delivers at most once; a peer that missed our messages (restart, partition) gets them
   * again. Each retransmission without a commit waits twice as long as the one before, up to four
   * times `retransmitMs`: on an overloaded cluster every height outlasts the first wait, and each
   * validator re-sending every message of every round to every peer every 2 s became most of the
   * load (16 validators on 2 cores), which kept the height from ending.
   */
  private retransmit(): void {
    const wait = this.opts.retransmitMs * 2 ** Math.min(this.retransmits, 2);
    if (Date.now() - this.retransmitFrom < wait || this.sent.length === 0) return;
    this.retransmitFrom = Date.now();
    this.retransmits++;
    const { transport } = this.c;
    if (transport.resend !== undefined) transport.resend(this.sent);
    else for (const bytes of this.sent) transport.broadcast(bytes);
  }
}

export function createBftEngine<E extends ExecutedBlockView>(
  components: BftEngineComponents<E>,
  options: Partial<BftEngineOptions> = {},
): BftEngine<E> {
  return new BftEngine(components, options);
}
