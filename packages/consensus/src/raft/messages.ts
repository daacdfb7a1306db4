import { concatBytes, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, utf8 } from "@cairn/crypto";
import {
  asArray,
  asBool,
  asBytes,
  asUint,
  blockHash,
  type Commit,
  commitFromValue,
  commitToValue,
  decode,
  decodeBlock,
  encode,
  MAX_ENCODED_BLOCK_BYTES,
  MessagingError,
  type Value,
} from "@cairn/messaging";

// Raft's messages (Ongaro and Ousterhout 2014, with pre-vote from Ongaro's thesis §9.6) as Cairn
// sends them: canonical arrays, each signed by its sender's validator key, broadcast on the
// consensus topic; a reply names the node it is for (`to`) and the others drop it unread.

/** Prefix of the bytes a Raft message signature covers; distinct from votes, proposals and transactions. */
export const RAFT_SIGN_DOMAIN = utf8.encode("CAIRN_RAFT_V1\0");

/** A log entry: one block, at its height (Raft's index), appended in `term`. */
export interface RaftEntry {
  readonly height: number;
  readonly term: number;
  readonly hash: Uint8Array;
  /** The encoded block. */
  readonly block: Uint8Array;
  /** The certificate of the block below, carried in this block (null at height 1). */
  readonly lastCommit: Commit | null;
}

/** Ask for a (pre-)vote: `term` is the term the candidate runs in (for a pre-vote, the one it would run in). */
export interface VoteRequest {
  readonly type: "prevote" | "vote";
  readonly term: number;
  readonly from: Uint8Array;
  readonly lastIndex: number;
  readonly lastTerm: number;
}

export interface VoteReply {
  readonly type: "prevote-reply" | "vote-reply";
  readonly term: number;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly granted: boolean;
}

/**
 * AppendEntries from the leader: the entries after `prevIndex` (whose entry has `prevTerm`), and
 * the highest height it knows committed with that block's certificate. Empty: a heartbeat.
 */
export interface AppendRequest {
  readonly type: "append";
  readonly term: number;
  readonly from: Uint8Array;
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly RaftEntry[];
  readonly commitIndex: number;
  readonly commit: Commit | null;
  /** Makes every heartbeat's bytes unique (gossip drops bytes it has seen). */
  readonly seq: number;
}

/**
 * A follower's answer: whether its log matched, the last height it now holds, and, when that entry
 * is of the leader's term, its acknowledgement signature (a share of the block's certificate).
 */
export interface AppendReply {
  readonly type: "append-reply";
  readonly term: number;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly success: boolean;
  readonly lastIndex: number;
  /** The follower's committed head: a leader below it catches up by block sync. */
  readonly commitIndex: number;
  readonly ack: Uint8Array | null;
  readonly seq: number;
}

export type RaftMessage = VoteRequest | VoteReply | AppendRequest | AppendReply;

const TYPE_CODES = { prevote: 1, vote: 2, "prevote-reply": 3, "vote-reply": 4, append: 5, "append-reply": 6 } as const;
const TYPES = Object.fromEntries(Object.entries(TYPE_CODES).map(([k, v]) => [v, k])) as Record<
  number,
  RaftMessage["type"]
>;

/** Who a message is for; null: everyone. */
export function recipientOf(m: RaftMessage): Uint8Array | null {
  return m.type === "vote-reply" || m.type === "prevote-reply" || m.type === "append-reply" ? m.to : null;
}

function body(m: RaftMessage): Value[] {
  const code = TYPE_CODES[m.type];
  switch (m.type) {
    case "prevote":
    case "vote":
      return [code, m.term, m.from, m.lastIndex, m.lastTerm];
    case "prevote-reply":
    case "vote-reply":
      return [code, m.term, m.from, m.to, m.granted];
    case "append":
      return [
        code,
        m.term,
        m.from,
        m.prevIndex,
        m.prevTerm,
        m.entries.map((e) => [e.term, e.block]),
        m.commitIndex,
        m.commit === null ? null : commitToValue(m.commit),
        m.seq,
      ];
    case "append-reply":
      return [code, m.term, m.from, m.to, m.success, m.lastIndex, m.commitIndex, m.ack, m.seq];
  }
}

/** "CAIRN_RAFT_V1" ‖ 0x00 ‖ canonical([chainId, body]). */
export function raftSigningBytes(chainId: string, m: RaftMessage): Uint8Array {
  return concatBytes(RAFT_SIGN_DOMAIN, encode([chainId, body(m)]));
}

/** The wire form: canonical [body, signature]. */
export function encodeRaftMessage(m: RaftMessage, signature: Uint8Array): Uint8Array {
  return encode([body(m), signature]);
}

function entryOf(v: Value, height: number, i: number): RaftEntry {
  const f = asArray(v, `entries[${i}]`, 2);
  const term = asUint(f[0] as Value, `entries[${i}].term`);
  const bytes = asBytes(f[1] as Value, `entries[${i}].block`);
  if (bytes.length > MAX_ENCODED_BLOCK_BYTES) throw new MessagingError("BAD_MESSAGE", `entries[${i}] is too large`);
  const block = decodeBlock(bytes);
  if (block.header.height !== height) {
    throw new MessagingError("BAD_MESSAGE", `entries[${i}] is block ${block.header.height}, expected ${height}`);
  }
  return { height, term, hash: blockHash(block.header), block: bytes, lastCommit: block.lastCommit };
}

/** Decodes and checks the shape of a message; throws MessagingError. The signature is the caller's to check. */
export function decodeRaftMessage(bytes: Uint8Array): { message: RaftMessage; signature: Uint8Array } {
  const outer = asArray(decode(bytes), "raft message", 2);
  const signature = asBytes(outer[1] as Value, "signature", SIGNATURE_LENGTH);
  const f = asArray(outer[0] as Value, "body");
  const type = TYPES[asUint(f[0] as Value, "type")];
  if (type === undefined) throw new MessagingError("BAD_MESSAGE", "unknown raft message type");
  const term = asUint(f[1] as Value, "term");
  const from = asBytes(f[2] as Value, "from", PUBLIC_KEY_LENGTH);
  let message: RaftMessage;
  switch (type) {
    case "prevote":
    case "vote":
      asArray(outer[0] as Value, "body", 5);
      message = {
        type,
        term,
        from,
        lastIndex: asUint(f[3] as Value, "lastIndex"),
        lastTerm: asUint(f[4] as Value, "lastTerm"),
      };
      break;
    case "prevote-reply":
    case "vote-reply":
      asArray(outer[0] as Value, "body", 5);
      message = {
        type,
        term,
        from,
        to: asBytes(f[3] as Value, "to", PUBLIC_KEY_LENGTH),
        granted: asBool(f[4] as Value, "granted"),
      };
      break;
    case "append": {
      asArray(outer[0] as Value, "body", 9);
      const prevIndex = asUint(f[3] as Value, "prevIndex");
      const entries = asArray(f[5] as Value, "entries").map((e, i) => entryOf(e, prevIndex + 1 + i, i));
      message = {
        type,
        term,
        from,
        prevIndex,
        prevTerm: asUint(f[4] as Value, "prevTerm"),
        entries,
        commitIndex: asUint(f[6] as Value, "commitIndex"),
        commit: f[7] === null ? null : commitFromValue(f[7] as Value),
        seq: asUint(f[8] as Value, "seq"),
      };
      break;
    }
    case "append-reply":
      asArray(outer[0] as Value, "body", 9);
      message = {
        type,
        term,
        from,
        to: asBytes(f[3] as Value, "to", PUBLIC_KEY_LENGTH),
        success: asBool(f[4] as Value, "success"),
        lastIndex: asUint(f[5] as Value, "lastIndex"),
        commitIndex: asUint(f[6] as Value, "commitIndex"),
        ack: f[7] === null ? null : asBytes(f[7] as Value, "ack", SIGNATURE_LENGTH),
        seq: asUint(f[8] as Value, "seq"),
      };
      break;
  }
  return { message, signature };
}
