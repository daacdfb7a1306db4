import { toHex } from "@cairn/crypto";
import type { ConsensusMessage } from "./messages.ts";

// Messages that ran ahead of this node (heights above the one it decides), kept until it gets there.
// Only authenticated messages are kept (the engine checks author and signature first), and each
// validator has its own bounded slot (count and bytes), so a Byzantine validator can fill only its
// own and never crowd out honest ones.

export interface FutureBufferLimits {
  /** Heights above the one being decided that are kept (1 keeps only the next one). */
  readonly heights: number;
  /** Messages kept per validator. */
  readonly messagesPerValidator: number;
  /** Bytes of proposal blocks kept per validator. */
  readonly bytesPerValidator: number;
}

interface Slot {
  messages: ConsensusMessage[];
  bytes: number;
}

const heightOf = (m: ConsensusMessage) => (m.kind === "proposal" ? m.proposal.height : m.vote.height);
const authorOf = (m: ConsensusMessage) => (m.kind === "proposal" ? m.proposal.proposer : m.vote.validator);
const sizeOf = (m: ConsensusMessage) => (m.kind === "proposal" ? m.proposal.block.length : 0);
const signatureOf = (m: ConsensusMessage) => (m.kind === "proposal" ? m.proposal.signature : m.vote.signature);

export class FutureBuffer {
  private readonly limits: FutureBufferLimits;
  private readonly slots = new Map<string, Slot>();
  private readonly signatures = new Set<string>();

  constructor(limits: FutureBufferLimits) {
    this.limits = limits;
  }

  /** Whether `m` is already kept (same signature: no need to check it again). */
  has(m: ConsensusMessage): boolean {
    return this.signatures.has(toHex(signatureOf(m)));
  }

  /** Whether a message of `author` for `height` would be kept, before paying for its signature check. */
  wouldKeep(m: ConsensusMessage, deciding: number): boolean {
    const h = heightOf(m);
    if (h <= deciding || h > deciding + this.limits.heights) return false;
    const slot = this.slots.get(toHex(authorOf(m)));
    if (slot === undefined) return sizeOf(m) <= this.limits.bytesPerValidator;
    return (
      slot.messages.length < this.limits.messagesPerValidator && slot.bytes + sizeOf(m) <= this.limits.bytesPerValidator
    );
  }

  /** Keeps an authenticated message; false when its author's slot is full or it is out of the window. */
  add(m: ConsensusMessage, deciding: number): boolean {
    if (this.has(m) || !this.wouldKeep(m, deciding)) return false;
    const key = toHex(authorOf(m));
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { messages: [], bytes: 0 };
      this.slots.set(key, slot);
    }
    slot.messages.push(m);
    slot.bytes += sizeOf(m);
    this.signatures.add(toHex(signatureOf(m)));
    return true;
  }

  /** Whether any message of `height` is kept. */
  hasHeight(height: number): boolean {
    for (const s of this.slots.values()) if (s.messages.some((m) => heightOf(m) === height)) return true;
    return false;
  }

  /** Removes and returns the messages of `height` (proposals first), and forgets those below it. */
  take(height: number): ConsensusMessage[] {
    const out: ConsensusMessage[] = [];
    for (const [key, slot] of this.slots) {
      const keep: ConsensusMessage[] = [];
      for (const m of slot.messages) {
        const h = heightOf(m);
        if (h === height) out.push(m);
        if (h > height) keep.push(m);
        else this.signatures.delete(toHex(signatureOf(m)));
      }
      slot.messages = keep;
      slot.bytes = keep.reduce((n, m) => n + sizeOf(m), 0);
      if (keep.length === 0) this.slots.delete(key);
    }
    return out.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "proposal" ? -1 : 1));
  }

  /** Messages and proposal bytes kept now (for status and tests). */
  size(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (const s of this.slots.values()) {
      messages += s.messages.length;
      bytes += s.bytes;
    }
    return { messages, bytes };
  }
}
