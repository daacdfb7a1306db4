import { equalBytes } from "@cairn/crypto";
import { type Commit, VoteType, voteSigningBytes } from "@cairn/messaging";
import { ConsensusError } from "../commit.ts";
import { BlockExecutor } from "../executor.ts";
import type { ConsensusTelemetry } from "../metrics.ts";
import type {
  CommitListener,
  ConsensusEngine,
  ConsensusStatus,
  ExecutedBlockView,
  LedgerPort,
  Logger,
  MempoolPort,
  Signer,
} from "../types.ts";
import { defaultSoloOptions, type SoloOptions } from "./options.ts";

export interface SoloComponents<E extends ExecutedBlockView> {
  readonly ledger: LedgerPort<E>;
  readonly mempool: MempoolPort;
  readonly signer: Signer;
  readonly logger?: Logger;
  readonly onCommit?: CommitListener<E>;
  /** Applies blocks (the node shares one with block sync); built from ledger and mempool when absent. */
  readonly executor?: BlockExecutor<E>;
  readonly telemetry?: ConsensusTelemetry;
}

/**
 * The single-validator engine: the one validator proposes, executes and commits each block, and
 * its precommit signature is the block's certificate (a quorum of one). Blocks are cut when full
 * or `blockInterval` ms after the first pending transaction; an idle chain makes no blocks.
 */
export class SoloEngine<E extends ExecutedBlockView> implements ConsensusEngine {
  readonly name = "solo";
  private readonly c: SoloComponents<E>;
  private readonly opts: SoloOptions;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private step = "idle";
  private lastCommit: Commit | null = null;
  private readonly executor: BlockExecutor<E>;

  constructor(components: SoloComponents<E>, options: Partial<SoloOptions> = {}) {
    this.c = components;
    this.opts = { ...defaultSoloOptions, ...options };
    this.executor = components.executor ?? new BlockExecutor(components);
    if (components.onCommit !== undefined) this.executor.onCommit(components.onCommit);
  }

  async start(): Promise<void> {
    const { ledger, signer } = this.c;
    const vals = ledger.validators();
    if (vals.length !== 1 || !equalBytes((vals[0] as { publicKey: Uint8Array }).publicKey, signer.publicKey)) {
      throw new ConsensusError(
        "NOT_SOLO_VALIDATOR",
        "the solo engine needs a genesis with this node as its only validator",
      );
    }
    const head = ledger.head();
    this.lastCommit = head.height === 0 ? null : ((await ledger.getCommit(head.height)) ?? null);
    this.running = true;
    this.unsubscribe = this.c.mempool.onAdded(() => this.wake?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
  }

  status(): ConsensusStatus {
    return { engine: this.name, height: this.c.ledger.head().height + 1, round: 0, step: this.step };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const { mempool } = this.c;
    while (this.running) {
      if (mempool.size === 0) {
        this.step = "idle";
        await this.sleep(60_000);
        continue;
      }
      // Let a partial block fill for up to blockInterval; a full one goes at once.
      if (mempool.size < this.opts.maxBlockTxs) {
        this.step = "collecting";
        const until = Date.now() + this.opts.blockInterval;
        while (this.running && mempool.size < this.opts.maxBlockTxs && Date.now() < until) {
          await this.sleep(until - Date.now());
        }
      }
      try {
        await this.produce();
      } catch (e) {
        // A failed block is not committed; the node's state is unchanged. Log and retry later.
        this.c.logger?.error({ err: e }, "solo: block production failed");
        await this.sleep(1000);
      }
    }
    this.step = "stopped";
  }

  private async produce(): Promise<void> {
    const { ledger, mempool, signer } = this.c;
    const head = ledger.head();
    const height = head.height + 1;
    const txs = mempool.reap(this.opts.maxBlockTxs, this.opts.maxBlockBytes, height);
    if (txs.length === 0) return;
    this.executor.telemetry.trace("proposed", txs, height);
    this.step = "executing";
    const executed = await this.executor.execute({
      // Block time never goes backwards, even if the clock does.
      time: Math.max(Date.now(), head.time),
      proposer: signer.publicKey,
      txs,
      lastCommit: this.lastCommit,
      fill: true,
    });
    this.step = "committing";
    const signature = signer.sign(
      voteSigningBytes({
        chainId: ledger.chainId,
        height,
        round: 0,
        type: VoteType.precommit,
        blockHash: executed.hash,
      }),
    );
    const commit: Commit = {
      height,
      round: 0,
      blockHash: executed.hash,
      signatures: [{ validator: signer.publicKey, signature }],
    };
    await this.executor.commit(executed, commit);
    this.lastCommit = commit;
  }
}

export function createSoloEngine<E extends ExecutedBlockView>(
  components: SoloComponents<E>,
  options: Partial<SoloOptions> = {},
): ConsensusEngine {
  return new SoloEngine(components, options);
}
