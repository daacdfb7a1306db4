import { decodeBlocksResponse, defaultBlockSyncLimits, encodeBlocksRequest, type SyncedBlock } from "./block-sync.ts";

// Picking the peer to catch up from. A peer that does not answer in time is skipped and backed off
// (1 s, doubling to a minute) so the next attempt asks others first; a peer that keeps pointing us
// at blocks it cannot serve is reported to the network layer, which disconnects it after repeated
// reports. Fetching happens outside the consensus engine's queue: it never blocks consensus.

/** How block requests reach peers (the network layer's request/response). */
export interface BlockSource {
  /** Peers connected now. */
  peers(): readonly string[];
  /** One request to `peer`, answered within `timeoutMs` or rejected. */
  request(peer: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Reports a peer that broke the protocol or wasted our sync (network peer scoring). */
  penalize?(peer: string, reason: string): void;
}

export interface BlockFetcherOptions {
  /** How long one peer gets to answer a block request (ms). */
  readonly requestTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Syncs a peer triggered and could not serve before it is reported. */
  readonly maxUnservedTriggers: number;
  readonly batch: number;
}

export const defaultBlockFetcherOptions: BlockFetcherOptions = {
  requestTimeoutMs: 2_000,
  backoffMinMs: 1_000,
  backoffMaxMs: 60_000,
  maxUnservedTriggers: 3,
  batch: defaultBlockSyncLimits.maxBlocks,
};

interface PeerState {
  failures: number;
  until: number;
  unserved: number;
}

export interface FetchedBlocks {
  readonly peer: string;
  readonly blocks: SyncedBlock[];
}

export class BlockFetcher {
  private readonly source: BlockSource;
  private readonly opts: BlockFetcherOptions;
  private readonly states = new Map<string, PeerState>();
  private readonly now: () => number;

  constructor(source: BlockSource, options: Partial<BlockFetcherOptions> = {}, now: () => number = Date.now) {
    this.source = source;
    this.opts = { ...defaultBlockFetcherOptions, ...options };
    this.now = now;
  }

  private state(peer: string): PeerState {
    let s = this.states.get(peer);
    if (s === undefined) {
      s = { failures: 0, until: 0, unserved: 0 };
      this.states.set(peer, s);
    }
    return s;
  }

  /** Whether `peer` is backed off now. */
  backedOff(peer: string): boolean {
    return (this.states.get(peer)?.until ?? 0) > this.now();
  }

  /** Backs `peer` off after a failure: the wait doubles with each failure in a row. */
  fail(peer: string): void {
    const s = this.state(peer);
    s.failures++;
    s.until = this.now() + Math.min(this.opts.backoffMaxMs, this.opts.backoffMinMs * 2 ** (s.failures - 1));
  }

  /** A peer sent blocks that do not verify: back it off and report it. */
  misbehaved(peer: string, reason: string): void {
    this.fail(peer);
    this.source.penalize?.(peer, reason);
  }

  /**
   * The blocks after `fromHeight` from the first peer that has some: `preferred` (the peer whose
   * message showed we are behind) first, then the others in random order, each skipped while backed
   * off. Null when no peer has any. A preferred peer that had none (or did not answer) counts an
   * unserved trigger; after `maxUnservedTriggers` of them it is reported.
   */
  async fetch(fromHeight: number, preferred?: string): Promise<FetchedBlocks | null> {
    const connected = this.source.peers();
    const others = connected.filter((p) => p !== preferred).sort(() => Math.random() - 0.5);
    const order = preferred !== undefined && connected.includes(preferred) ? [preferred, ...others] : others;
    let result: FetchedBlocks | null = null;
    for (const peer of order) {
      if (this.backedOff(peer)) continue;
      let blocks: SyncedBlock[];
      try {
        const bytes = await this.source.request(
          peer,
          encodeBlocksRequest(fromHeight, this.opts.batch),
          this.opts.requestTimeoutMs,
        );
        blocks = decodeBlocksResponse(bytes);
      } catch {
        this.fail(peer);
        continue;
      }
      const s = this.state(peer);
      s.failures = 0;
      s.until = 0;
      if (blocks.length > 0) {
        if (peer === preferred) s.unserved = 0;
        result = { peer, blocks };
        break;
      }
    }
    if (preferred !== undefined && result?.peer !== preferred) {
      const s = this.state(preferred);
      s.unserved++;
      if (s.unserved >= this.opts.maxUnservedTriggers) {
        s.unserved = 0;
        this.fail(preferred);
        this.source.penalize?.(preferred, "triggered block syncs it could not serve");
      }
    }
    return result;
  }
}
