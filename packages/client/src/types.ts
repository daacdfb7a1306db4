// The API's JSON answers as the SDK returns them. Hashes, keys and signatures are lower-case hex;
// contract values (args, event data) are JSON with binary as "0x"-prefixed hex.

export type JsonValue = null | boolean | number | string | JsonValue[];

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
}

export interface Receipt {
  readonly txHash: string;
  /** "OK", or the contract's error code (the transaction is committed but changed nothing). */
  readonly code: string;
  readonly message: string;
  readonly events: readonly { readonly contract: string; readonly name: string; readonly data: JsonValue }[];
  readonly gasUsed: number;
}

/** RFC 6962 inclusion proof of an envelope in its block's txRoot. */
export interface InclusionProof {
  readonly index: number;
  readonly size: number;
  readonly path: readonly string[];
}

export interface TxFields {
  readonly chainId: string;
  readonly sender: string;
  readonly nonce: string;
  readonly expiry: number;
  readonly contract: string;
  readonly method: string;
  readonly args: readonly JsonValue[];
  readonly signature: string;
  /** The canonical envelope, hex (authoritative; decode with @cairn/messaging). */
  readonly envelope: string;
}

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

export interface BlockHeaderInfo {
  readonly chainId: string;
  readonly height: number;
  readonly time: number;
  readonly prevHash: string;
  readonly txRoot: string;
  readonly stateRoot: string;
  readonly receiptRoot: string;
  readonly lastCommitHash: string;
  readonly validatorsHash: string;
  readonly proposer: string;
  readonly txCount: number;
}

export interface CommitInfo {
  readonly height: number;
  readonly round: number;
  readonly blockHash: string;
  readonly signatures: readonly { readonly validator: string; readonly signature: string }[];
}

export interface BlockInfo {
  readonly height: number;
  readonly hash: string;
  readonly header: BlockHeaderInfo;
  /** SHA-256 of each envelope. */
  readonly txs: readonly string[];
  /** The envelopes, hex, with `getBlock(h, { full: true })`. */
  readonly envelopes?: readonly string[];
  readonly receipts: readonly Receipt[];
  readonly commit: CommitInfo | null;
  readonly lastCommit: CommitInfo | null;
}

export interface StateInfo {
  readonly contract: string;
  readonly key: string;
  /** Hex; null when the key is absent. */
  readonly value: string | null;
  /** The value as text when it is valid UTF-8. */
  readonly utf8?: string;
  readonly height: number;
  readonly stateRoot: string;
  readonly proof: {
    readonly siblings: readonly string[];
    readonly leaf: { readonly keyHash: string; readonly valueHash: string } | null;
  };
}

export interface ValidatorInfo {
  readonly publicKey: string;
  readonly power: number;
  readonly name: string;
}

export interface StatusInfo {
  readonly chainId: string;
  readonly nodeId: string;
  readonly moniker: string;
  readonly version: string;
  readonly height: number;
  readonly blockHash: string;
  readonly stateRoot: string;
  readonly blockTime: number;
  readonly genesisHash: string;
  readonly validators: readonly ValidatorInfo[];
  readonly mempool: { readonly size: number; readonly bytes: number; readonly maxSize: number };
  readonly consensus: { readonly engine: string; readonly round: number; readonly step: string };
  readonly maxTxTtl: number;
}

/** One committed block, as GET /events streams it. */
export interface BlockEvent {
  readonly height: number;
  readonly hash: string;
  readonly time: number;
  readonly txCount: number;
  readonly stateRoot: string;
  readonly receipts: readonly { readonly txHash: string; readonly code: string; readonly gasUsed: number }[];
}
