// What the HTTP API needs from a node. The API package declares it (the consumer owns the
// interface); @cairn/node implements it by wiring ledger, mempool and consensus together.
import type { MerkleProof } from "@cairn/crypto";
import type { Block, Commit, Receipt, SignedTransaction, Validator } from "@cairn/messaging";

/** A state proof as the ledger produces it; the API renders it as hex. */
export interface StateProofView {
  /** Sibling hashes from the root down to the leaf or empty slot. */
  readonly siblings: readonly Uint8Array[];
  /** For a proof of absence that ends at another key's leaf: that leaf's key hash and value hash. */
  readonly leaf: { readonly keyHash: Uint8Array; readonly valueHash: Uint8Array } | null;
}

export interface NodeStatus {
  readonly chainId: string;
  /** The node's validator public key, hex. */
  readonly nodeId: string;
  readonly moniker: string;
  readonly version: string;
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** Header time of the latest block (ms since epoch), 0 before the first block. */
  readonly blockTime: number;
  readonly genesisHash: Uint8Array;
  readonly validators: readonly Validator[];
  readonly mempool: { readonly size: number; readonly bytes: number; readonly maxSize: number };
  readonly consensus: { readonly engine: string; readonly round: number; readonly step: string };
  /** Largest `expiry - height` a transaction may carry (replay window). */
  readonly maxTxTtl: number;
  /** libp2p peer ids of the connected network peers (empty for a node without a network). */
  readonly peers: readonly string[];
}

/** Two conflicting signed votes from one validator for the same height, round and type. */
export interface EvidenceView {
  readonly validator: Uint8Array;
  readonly height: number;
  readonly round: number;
  /** 1 prevote, 2 precommit. */
  readonly type: number;
  readonly votes: readonly { readonly blockHash: Uint8Array; readonly signature: Uint8Array }[];
}

/** The admission result of one submitted transaction. */
export type SubmitResult =
  | { readonly ok: true; readonly hash: Uint8Array }
  | { readonly ok: false; readonly hash?: Uint8Array; readonly code: string; readonly message: string };

export type TxLookup =
  | { readonly status: "unknown" }
  | { readonly status: "pending"; readonly tx: SignedTransaction }
  | { readonly status: "rejected"; readonly code: string; readonly message: string }
  | {
      readonly status: "committed";
      readonly tx: SignedTransaction;
      readonly height: number;
      readonly index: number;
      readonly blockHash: Uint8Array;
      readonly receipt: Receipt;
      /** RFC 6962 inclusion proof of the envelope against the header's txRoot. */
      readonly proof: MerkleProof;
    };

export interface BlockView {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly receipts: readonly Receipt[];
  /** The certificate committing this block (null only if not yet known). */
  readonly commit: Commit | null;
}

export interface StateView {
  readonly value: Uint8Array | undefined;
  readonly height: number;
  readonly stateRoot: Uint8Array;
  readonly proof: StateProofView;
}

/** Emitted once per committed block, in height order. */
export interface CommittedBlockEvent {
  readonly view: BlockView;
}

/** A read-only call of a deployed contract's method. */
export interface QueryRequest {
  readonly contract: string;
  readonly method: string;
  /** The canonical encoding of the args array (the API has checked it decodes to an array). */
  readonly args: Uint8Array;
}

/**
 * The outcome of a query. A failure of the contract (its own code, `UNKNOWN_METHOD`,
 * `OUT_OF_GAS`, ...) is a result with `ok: false`; so is `UNKNOWN_CONTRACT`, which the API
 * answers with 404.
 */
export type QueryResult =
  | {
      readonly ok: true;
      /** The canonical bytes the method returned; empty when it returned nothing. */
      readonly output: Uint8Array;
      readonly gasUsed: number;
      /** The committed height the query ran on. */
      readonly height: number;
    }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly gasUsed: number;
      readonly height: number;
    };

/** A contract as GET /contracts/:name describes it. The optional fields are for deployed (wasm) contracts. */
export interface ContractView {
  readonly name: string;
  readonly kind: "native" | "wasm";
  /** The methods a transaction or a query may call. */
  readonly methods: readonly string[];
  /** SHA-256 of the stored (instrumented) module. */
  readonly codeHash?: Uint8Array;
  /** 1 at deploy, +1 per upgrade. */
  readonly version?: number;
  /** Public key of the admin that deployed it. */
  readonly deployer?: Uint8Array;
  /** Height of the deploy. */
  readonly deployedAt?: number;
  /** Height of the latest deploy or upgrade. */
  readonly updatedAt?: number;
  /** Size of the stored module, bytes. */
  readonly codeSize?: number;
}

export interface ApiBackend {
  status(): NodeStatus;
  /** Admits transactions into the mempool; each succeeds or fails on its own. */
  submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]>;
  /** Resolves with each lookup once committed or rejected, or as it stands when the timeout passes. */
  waitForCommit(hashes: readonly Uint8Array[], timeoutMs: number): Promise<TxLookup[]>;
  getTx(hash: Uint8Array): Promise<TxLookup>;
  /** A block by height, or the latest with "latest"; undefined if there is none. */
  getBlock(height: number | "latest"): Promise<BlockView | undefined>;
  getState(contract: string, key: Uint8Array): Promise<StateView>;
  subscribe(listener: (event: CommittedBlockEvent) => void): () => void;
  /**
   * Runs a read-only method of a deployed contract on the committed state, under the node's query
   * gas bound. No contract of that name: `{ok: false, code: "UNKNOWN_CONTRACT"}` (throwing an
   * error with that code works too).
   */
  query(req: QueryRequest): Promise<QueryResult>;
  /** A contract's description, or undefined when no contract has that name. */
  getContract(name: string): Promise<ContractView | undefined>;
  /** Alive and able to serve. */
  healthy(): boolean;
  /** Equivocation evidence this node has seen (newest last). */
  evidence(): readonly EvidenceView[];
}
