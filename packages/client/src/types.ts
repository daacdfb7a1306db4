// The API's JSON answers as the SDK returns them: the wire views are defined once, in
// @cairn/messaging (src/json.ts), and shared with the API server. Contract values (args, event
// data) are JSON with binary as "0x"-prefixed hex.
import type {
  BlockEventJson,
  BlockJson,
  CommitJson,
  ConsensusEventJson,
  ConsensusEventsJson,
  ContractJson,
  ErrorJson,
  HeaderJson,
  JsonValue,
  LogLineJson,
  LogsJson,
  ProofJson,
  ReceiptJson,
  StateJson,
  StatusJson,
  TracePoint,
  TxJson,
  Value,
} from "@cairn/messaging";

export type { JsonValue } from "@cairn/messaging";
export type ApiErrorBody = ErrorJson;
export type Receipt = ReceiptJson;
/** RFC 6962 inclusion proof of an envelope in its block's txRoot. */
export type InclusionProof = ProofJson;
export type TxFields = TxJson;
export type BlockHeaderInfo = HeaderJson;
export type CommitInfo = CommitJson;
export type BlockInfo = BlockJson;
export type StateInfo = StateJson;
export type StatusInfo = StatusJson;
export type ValidatorInfo = StatusJson["validators"][number];
/** GET /status `role`: "validator" when the node's key is in the current validator set. */
export type NodeRole = StatusJson["role"];
/** One committed block, as GET /events streams it. */
export type BlockEvent = BlockEventJson;
/** GET /contracts/:name: a native or deployed contract; bytes are hex. */
export type ContractInfo = ContractJson;

/** The outcome of `client.query`: a read-only call of a contract method on the committed state. */
export interface QueryResult {
  /** True when the method returned; false when it failed (see `code` and `message`). */
  readonly ok: boolean;
  /**
   * The decoded return value (64-bit integers beyond 2^53 as bigint, binary as Uint8Array); null
   * when the call failed, when the method returned nothing, or when its bytes are not a canonical
   * value (see `outputHex`).
   */
  readonly output: Value;
  /** The same value as JSON (binary as "0x" hex, large integers as decimal strings), as the node rendered it. */
  readonly outputJson: JsonValue;
  /** The canonical bytes of the return value, hex; "" when there are none. */
  readonly outputHex: string;
  readonly gasUsed: number;
  /** The committed height the query ran on. */
  readonly height: number;
  /** Why it failed: the contract's own code, UNKNOWN_METHOD, OUT_OF_GAS, ... */
  readonly code?: string;
  readonly message?: string;
}

export type TxStatus = "pending" | "committed" | "rejected" | "unknown";

/** GET /txs/:hash/trace: a transaction's journey through the node that received it. */
export interface TxTraceInfo {
  readonly hash: string;
  /** The block that holds it, once in one. */
  readonly height?: number;
  /** Trace points in time order: received, decoded, verified, admitted, gossiped, proposed, voted, executed, committed, streamed. */
  readonly points: readonly { readonly point: TracePoint; readonly timeUs: number }[];
}

/** One event of GET /consensus/events (docs/api.md): keys and hashes in hex, nil votes with blockHash null. */
export type ConsensusEventInfo = ConsensusEventJson;
/** GET /consensus/events */
export type ConsensusEventsInfo = ConsensusEventsJson;
/** One line of GET /logs. */
export type LogLineInfo = LogLineJson;
/** GET /logs */
export type LogsInfo = LogsJson;

/** GET /txs/:hash */
export interface TxInfo {
  readonly hash: string;
  readonly status: TxStatus;
  /** Present while pending and once committed. */
  readonly tx?: TxFields;
  readonly height?: number;
  /** Position in the block. */
  readonly index?: number;
  readonly blockHash?: string;
  readonly receipt?: Receipt;
  readonly proof?: InclusionProof;
  /** Why it was rejected (status "rejected"). */
  readonly error?: ApiErrorBody;
}

/** One transaction's outcome in POST /txs. */
export interface SubmitResult {
  readonly hash?: string;
  /** Absent when the node refused the transaction (see `error`). */
  readonly status?: TxStatus;
  /** For a refused batch item: its position in the request. Once committed: its position in the block. */
  readonly index?: number;
  readonly height?: number;
  readonly blockHash?: string;
  readonly receipt?: Receipt;
  readonly proof?: InclusionProof;
  readonly error?: ApiErrorBody;
}

export interface BatchSubmitResult {
  readonly results: readonly SubmitResult[];
  readonly accepted: number;
  readonly rejected: number;
  /** With `wait: "commit"`. */
  readonly committed?: number;
}
