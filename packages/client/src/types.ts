// The API's JSON answers as the SDK returns them: the wire views are defined once, in
// @cairn/messaging (src/json.ts), and shared with the API server. Contract values (args, event
// data) are JSON with binary as "0x"-prefixed hex.
import type {
  BlockEventJson,
  BlockJson,
  CommitJson,
  ErrorJson,
  HeaderJson,
  ProofJson,
  ReceiptJson,
  StateJson,
  StatusJson,
  TxJson,
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
/** One committed block, as GET /events streams it. */
export type BlockEvent = BlockEventJson;

export type TxStatus = "pending" | "committed" | "rejected" | "unknown";

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
