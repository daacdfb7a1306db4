import { concatBytes, toHex, type VerifyItem } from "@cairn/crypto";
import { decodeTransaction, type MessagingError, type SignedTransaction, txSignatureCheck } from "@cairn/messaging";
import { type MempoolTelemetry, noopMempoolTelemetry } from "./metrics.ts";
import { defaultMempoolOptions, type MempoolOptions } from "./options.ts";

// The mempool declares what it needs from its neighbours (the consumer owns the interface).

/** Ledger-side admission: chain id, expiry window, committed replays, contract arguments. */
export interface AdmissionChecker {
  checkAdmission(txs: readonly SignedTransaction[]): Promise<({ code: string; message: string } | null)[]>;
}

/** Batch signature verification (the node passes its worker-thread pool). */
export interface SignatureVerifier {
  verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]>;
}

export type AddResult =
  | { readonly ok: true; readonly hash: Uint8Array }
  | { readonly ok: false; readonly hash?: Uint8Array; readonly code: string; readonly message: string };

/**
 * A last check of transactions that passed every admission check, before they are journaled and
 * admitted (the node's private data dissemination, docs/privacy.md): one verdict per transaction,
 * null to admit. Their nonces stay reserved while it runs.
 */
export type AdmissionGate = (txs: readonly SignedTransaction[]) => Promise<readonly (Rejection | null)[]>;

export interface Rejection {
  readonly code: string;
  readonly message: string;
}

/**
 * Durable storage of admitted transactions, so that what a node acknowledged survives its crash.
 * `append` is awaited before a transaction counts as admitted (one durable write per batch: group
 * commit); `remove` may be lazy (a crash can leave entries, which `restore` drops as committed or
 * expired).
 */
export interface MempoolJournal {
  append(txs: readonly SignedTransaction[]): Promise<void>;
  remove(hashes: readonly Uint8Array[]): void;
}

export interface MempoolComponents {
  readonly admission: AdmissionChecker;
  readonly verifier: SignatureVerifier;
  /** Current maximum size of one transaction (from the chain parameters). */
  readonly maxTxBytes: number;
  /** Where admitted transactions are kept durably (none: memory only). */
  readonly journal?: MempoolJournal;
  /** Trace points of each admitted transaction (a no-op when absent). */
  readonly telemetry?: MempoolTelemetry;
}

/** How many signatures checked outside the mempool it remembers (ten full blocks). */
const VERIFIED_ELSEWHERE_MAX = 20_000;

function reject(code: string, message: string, hash?: Uint8Array): AddResult {
  return hash === undefined ? { ok: false, code, message } : { ok: false, hash, code, message };
}

/**
 * Pending transactions in arrival order. Admission verifies everything a block would (signature,
 * chain, size, expiry, replay, contract arguments) so blocks are built from valid transactions
 * only; capacity is bounded and a full pool answers MEMPOOL_FULL instead of dropping silently.
 */
export class Mempool {
  private readonly opts: MempoolOptions;
  private readonly components: MempoolComponents;
  /** hash hex → tx; Map iteration order is arrival order. */
  private readonly txs = new Map<string, SignedTransaction>();
  /** sender‖nonce hex of pending txs (and of those being admitted), for duplicate detection. */
  private readonly replayKeys = new Set<string>();
  /**
   * Replay keys of transactions being admitted (their checks awaited) that a block committed
   * meanwhile: the ledger's check said "not committed" before the block was written, so without
   * this the transaction would be pending after its commit, and a proposer would put it in a block
   * that every validator refuses as a replay.
   */
  private readonly committedWhileAdmitting = new Set<string>();
  private readonly rejected = new Map<string, Rejection>();
  private bytesValue = 0;
  /** Room held for batches still being verified, so concurrent adds cannot overfill the pool. */
  private reservedTxs = 0;
  private reservedBytes = 0;
  private readonly listeners = new Set<() => void>();
  /**
   * Hashes (envelope, so signature included) of transactions whose signatures this node already
   * checked outside the mempool: a proposal's transactions that had not reached it by gossip yet.
   * Admission does not check them again. Bounded; the oldest are forgotten first.
   */
  private readonly verifiedElsewhere = new Set<string>();

  private readonly telemetry: MempoolTelemetry;

  constructor(components: MempoolComponents, options: Partial<MempoolOptions> = {}) {
    this.components = components;
    this.opts = { ...defaultMempoolOptions, ...options };
    this.telemetry = components.telemetry ?? noopMempoolTelemetry;
  }

  get size(): number {
    return this.txs.size;
  }

  get bytes(): number {
    return this.bytesValue;
  }

  get maxSize(): number {
    return this.opts.maxTxs;
  }

  has(hash: Uint8Array): boolean {
    return this.txs.has(toHex(hash));
  }

  get(hash: Uint8Array): SignedTransaction | undefined {
    return this.txs.get(toHex(hash));
  }

  /** Records transactions whose signatures were checked outside the mempool (see verifiedElsewhere). */
  noteVerified(hashes: readonly Uint8Array[]): void {
    for (const h of hashes) this.verifiedElsewhere.add(toHex(h));
    const excess = this.verifiedElsewhere.size - VERIFIED_ELSEWHERE_MAX;
    if (excess <= 0) return;
    let k = 0;
    for (const h of this.verifiedElsewhere) {
      if (k++ >= excess) break;
      this.verifiedElsewhere.delete(h);
    }
  }

  /** Why a transaction was refused or dropped, if that happened recently. */
  rejection(hash: Uint8Array): Rejection | undefined {
    return this.rejected.get(toHex(hash));
  }

  /** Calls `listener` whenever transactions were added. Returns an unsubscribe function. */
  onAdded(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Re-admits transactions from the journal after a restart, through the same checks (those
   * committed or expired meanwhile are refused, remembered for GET /txs/:hash, and forgotten by the
   * journal); nothing is written again. Returns how many came back.
   */
  async restore(envelopes: readonly Uint8Array[]): Promise<number> {
    const results = await this.add(envelopes, { journal: false });
    const gone = results.flatMap((r) => (!r.ok && r.hash !== undefined ? [r.hash] : []));
    if (gone.length > 0) this.components.journal?.remove(gone);
    return results.filter((r) => r.ok).length;
  }

  /** Transactions pending now, in arrival order (to re-announce them to a peer that connects). */
  pending(): SignedTransaction[] {
    return [...this.txs.values()];
  }

  /**
   * Admits a batch of encoded transactions; each is accepted or refused on its own.
   */
  async add(
    envelopes: readonly Uint8Array[],
    opts: { journal?: boolean; gate?: AdmissionGate } = {},
  ): Promise<AddResult[]> {
    const results: AddResult[] = new Array(envelopes.length);
    const candidates: { i: number; stx: SignedTransaction; hex: string; replay: string }[] = [];
    const batchHashes = new Set<string>();
    let room = this.opts.maxTxs - this.txs.size - this.reservedTxs;
    let roomBytes = this.opts.maxBytes - this.bytesValue - this.reservedBytes;

    for (let i = 0; i < envelopes.length; i++) {
      const bytes = envelopes[i] as Uint8Array;
      let stx: SignedTransaction;
      try {
        stx = decodeTransaction(bytes, this.components.maxTxBytes);
      } catch (e) {
        const err = e as MessagingError;
        results[i] = reject(err.code ?? "MALFORMED", err.message);
        continue;
      }
      const hex = toHex(stx.hash);
      const replay = toHex(concatBytes(stx.tx.sender, stx.tx.nonce));
      if (this.txs.has(hex) || batchHashes.has(hex) || this.replayKeys.has(replay)) {
        results[i] = reject("DUPLICATE", "this transaction (sender and nonce) is already pending", stx.hash);
        continue;
      }
      if (room <= 0 || roomBytes < bytes.length) {
        results[i] = reject("MEMPOOL_FULL", "the mempool is full; retry shortly", stx.hash);
        continue;
      }
      room--;
      roomBytes -= bytes.length;
      batchHashes.add(hex);
      // Reserve the replay key now, so a concurrent batch cannot admit the same nonce twice.
      this.replayKeys.add(replay);
      candidates.push({ i, stx, hex, replay });
    }
    if (candidates.length === 0) return results;
    this.telemetry.trace(
      "decoded",
      candidates.map((c) => c.hex),
    );
    let heldBytes = 0;
    for (const c of candidates) heldBytes += c.stx.bytes.length;
    this.reservedTxs += candidates.length;
    this.reservedBytes += heldBytes;
    try {
      return await this.admit(candidates, results, opts.journal !== false, opts.gate);
    } finally {
      this.reservedTxs -= candidates.length;
      this.reservedBytes -= heldBytes;
      for (const c of candidates) this.committedWhileAdmitting.delete(c.replay);
      // Keys noted for a transaction pending under another hash (same sender and nonce) belong to no admission.
      if (this.reservedTxs === 0) this.committedWhileAdmitting.clear();
    }
  }

  private async admit(
    candidates: { i: number; stx: SignedTransaction; hex: string; replay: string }[],
    results: AddResult[],
    journal: boolean,
    gate: AdmissionGate | undefined,
  ): Promise<AddResult[]> {
    let valid: boolean[];
    let checks: ({ code: string; message: string } | null)[];
    try {
      // Signatures (in the verify workers) and the ledger's checks (a storage read) at once; a
      // transaction this node already checked in a proposal is not checked again.
      const known = candidates.map((c) => this.verifiedElsewhere.has(c.hex));
      const toVerify = candidates.filter((_, k) => !known[k]);
      let verdicts: boolean[];
      [verdicts, checks] = await Promise.all([
        toVerify.length === 0
          ? []
          : this.components.verifier.verifyBatch(toVerify.map(({ stx }) => txSignatureCheck(stx))),
        this.components.admission.checkAdmission(candidates.map((c) => c.stx)),
      ]);
      let j = 0;
      valid = known.map((k) => k || verdicts[j++] === true);
    } catch (e) {
      for (const c of candidates) this.replayKeys.delete(c.replay);
      throw e;
    }

    let admitted: (typeof candidates)[number][] = [];
    this.telemetry.trace(
      "verified",
      candidates.flatMap((c, k) => (valid[k] ? [c.hex] : [])),
    );
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[k] as (typeof candidates)[number];
      const problem: Rejection | null = !valid[k]
        ? { code: "BAD_SIGNATURE", message: "the signature does not verify against the sender's key" }
        : (checks[k] ?? null);
      if (problem !== null) {
        this.replayKeys.delete(c.replay);
        this.remember(c.hex, problem);
        results[c.i] = reject(problem.code, problem.message, c.stx.hash);
        continue;
      }
      admitted.push(c);
    }
    if (gate !== undefined && admitted.length > 0) {
      let verdicts: readonly (Rejection | null)[];
      try {
        verdicts = await gate(admitted.map((c) => c.stx));
      } catch (e) {
        for (const c of candidates) this.replayKeys.delete(c.replay);
        throw e;
      }
      admitted = admitted.filter((c, k) => {
        const problem = verdicts[k] ?? null;
        if (problem === null) return true;
        this.replayKeys.delete(c.replay);
        results[c.i] = reject(problem.code, problem.message, c.stx.hash);
        return false;
      });
    }
    // Durable before acknowledged: one write for the whole batch.
    if (journal && admitted.length > 0 && this.components.journal !== undefined) {
      try {
        await this.components.journal.append(admitted.map((c) => c.stx));
      } catch (err) {
        for (const c of admitted) {
          this.replayKeys.delete(c.replay);
          results[c.i] = reject(
            "NOT_READY",
            `the node cannot store transactions now (${(err as Error).message}); retry, or send to another node`,
            c.stx.hash,
          );
        }
        return results;
      }
    }
    const late: Uint8Array[] = [];
    admitted = admitted.filter((c) => {
      if (!this.committedWhileAdmitting.has(c.replay)) return true;
      this.replayKeys.delete(c.replay);
      results[c.i] = reject(
        "DUPLICATE",
        "a block committed this sender and nonce while it was being admitted",
        c.stx.hash,
      );
      late.push(c.stx.hash);
      return false;
    });
    if (journal && late.length > 0) this.components.journal?.remove(late);
    let added = 0;
    for (const { i, stx, hex } of admitted) {
      this.txs.set(hex, stx);
      this.bytesValue += stx.bytes.length;
      this.rejected.delete(hex);
      results[i] = { ok: true, hash: stx.hash };
      added++;
    }
    if (added > 0) {
      this.telemetry.trace(
        "admitted",
        admitted.map((c) => c.hex),
      );
      for (const l of this.listeners) l();
    }
    return results;
  }

  /**
   * Transactions for the next block, in arrival order, within the bounds. Transactions that have
   * expired by `height` are dropped on the way (and remembered as EXPIRED).
   */
  reap(maxTxs: number, maxBytes: number, height: number): SignedTransaction[] {
    const out: SignedTransaction[] = [];
    const expired: SignedTransaction[] = [];
    let bytes = 0;
    for (const stx of this.txs.values()) {
      if (stx.tx.expiry < height) {
        expired.push(stx);
        continue;
      }
      if (out.length >= maxTxs || bytes + stx.bytes.length > maxBytes) break;
      bytes += stx.bytes.length;
      out.push(stx);
    }
    this.dropAsExpired(expired);
    return out;
  }

  /** Removes transactions that were committed. */
  removeCommitted(txs: readonly SignedTransaction[]): void {
    const gone: Uint8Array[] = [];
    for (const stx of txs) {
      const hex = toHex(stx.hash);
      if (this.txs.has(hex)) {
        this.forget(hex, stx);
        gone.push(stx.hash);
      } else if (this.replayKeys.size > this.txs.size) {
        // Some admission is in flight: is it this sender and nonce's?
        const replay = toHex(concatBytes(stx.tx.sender, stx.tx.nonce));
        if (this.replayKeys.has(replay)) this.committedWhileAdmitting.add(replay);
      }
    }
    if (gone.length > 0) this.components.journal?.remove(gone);
  }

  /** Drops every pending transaction that can no longer be included at `height`. */
  dropExpired(height: number): number {
    const expired = [...this.txs.values()].filter((stx) => stx.tx.expiry < height);
    this.dropAsExpired(expired);
    return expired.length;
  }

  /** Drops expired transactions, remembered as EXPIRED; the journal forgets them in one write. */
  private dropAsExpired(txs: readonly SignedTransaction[]): void {
    if (txs.length === 0) return;
    for (const stx of txs) {
      const hex = toHex(stx.hash);
      this.forget(hex, stx);
      this.remember(hex, { code: "EXPIRED", message: `expired at height ${stx.tx.expiry} before it was included` });
    }
    this.components.journal?.remove(txs.map((t) => t.hash));
  }

  /** Takes a pending transaction out of the pool (its bytes and its replay key). */
  private forget(hex: string, stx: SignedTransaction): void {
    this.txs.delete(hex);
    this.bytesValue -= stx.bytes.length;
    this.replayKeys.delete(toHex(concatBytes(stx.tx.sender, stx.tx.nonce)));
  }

  private remember(hex: string, why: Rejection): void {
    this.rejected.delete(hex);
    this.rejected.set(hex, why);
    if (this.rejected.size > this.opts.rejectedCacheSize) {
      this.rejected.delete(this.rejected.keys().next().value as string);
    }
  }
}
