// What the HTTP API needs from a node. The API package declares it (the consumer owns the
// interface); @cairn/node implements it by wiring ledger, mempool and consensus together.
import type { MerkleProof } from "@cairn/crypto";
import type {
  Block,
  CollectionJson,
  Commit,
  ConsensusEventData,
  LogLineData,
  LogLineLevel,
  PrivateWrite,
  RaftStatusJson,
  Receipt,
  RecentStamp,
  SignedTransaction,
  Validator,
  Value,
} from "@cairn/messaging";

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
  /** The consensus instance in progress: `height` is the height being decided (head + 1). */
  readonly consensus: {
    readonly engine: string;
    readonly height: number;
    /** Raft: the term. */
    readonly round: number;
    /** Raft: the role. */
    readonly step: string;
    readonly raft?: RaftStatusJson;
  };
  /**
   * BFT: about how far this node's clock is behind the proposers' (median of block time minus
   * arrival time over recent proposals; negative when ahead), ms. Absent until proposals arrived.
   */
  readonly clock?: { readonly offsetMs: number };
  /** Largest `expiry - height` a transaction may carry (replay window). */
  readonly maxTxTtl: number;
  /** libp2p peer ids of the connected network peers (empty for a node without a network). */
  readonly peers: readonly string[];
  /** Connected peers and the size of the member set (this node included); zeros without a network. */
  readonly network: { readonly peers: number; readonly members: number };
  /** Block sync: whether it runs now, and when (ms since epoch) it last brought in missed blocks. */
  readonly sync: { readonly catchingUp: boolean; readonly lastCaughtUpAt?: number };
  /** "validator" when this node's key is in the current validator set, else "observer". */
  readonly role: NodeRole;
}

export type NodeRole = "validator" | "observer";

/**
 * Evidence of a validator's misbehaviour, each kind with what its author signed: two conflicting
 * votes (duplicate-vote), two different proposals for one round (conflicting-proposal), or a signed
 * proposal whose block breaks a rule (invalid-proposal: `reason`, and the block itself by `id`).
 */
export interface EvidenceView {
  /** Stable id: `kind:height:validator`. */
  readonly id: string;
  readonly kind: "duplicate-vote" | "conflicting-proposal" | "invalid-proposal";
  readonly validator: Uint8Array;
  readonly height: number;
  readonly round: number;
  /** duplicate-vote: 1 prevote, 2 precommit. */
  readonly type?: number;
  /** duplicate-vote: the two votes. */
  readonly votes?: readonly { readonly blockHash: Uint8Array; readonly signature: Uint8Array }[];
  /** conflicting-proposal (two) and invalid-proposal (one): the signed proposal fields. */
  readonly proposals?: readonly {
    readonly polRound: number;
    readonly blockHash: Uint8Array;
    readonly signature: Uint8Array;
  }[];
  /** invalid-proposal: the rule the block breaks (InvalidProposalReason). */
  readonly reason?: string;
  /** invalid-proposal, from GET /evidence/:id only: the encoded block the proposer signed. */
  readonly block?: Uint8Array;
}

export interface EvidenceQuery {
  readonly offset: number;
  readonly limit: number;
  /** Hex public key of a validator. */
  readonly validator?: string;
  readonly kind?: EvidenceView["kind"];
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

/** One trace point a transaction reached on this node, and when (microseconds since the Unix epoch). */
export interface TracePointView {
  readonly point: string;
  readonly timeUs: number;
}

export interface TxTraceView {
  /** The block that holds it, once it reached a consensus point. */
  readonly height?: number;
  readonly points: readonly TracePointView[];
}

/** One entry of a node's recent-events buffer (GET /consensus/events, GET /logs). */
export interface RecentView<T> extends RecentStamp {
  readonly data: T;
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

/**
 * Who may read the chain through the API: "open" (anyone, no signature) or "members" (protected
 * routes need a read signed by an active identity with the route's role; docs/api.md, "Signed reads").
 */
export type ReadAccess = "open" | "members";

/** A registered identity as the API checks reads against it. */
export interface IdentityView {
  /** The member organisation the identity belongs to. */
  readonly org: string;
  /** Its roles: admin, client, deployer, auditor, validator. */
  readonly roles: readonly string[];
  /** False once revoked. */
  readonly active: boolean;
}

/** The answer of GET /ready. */
export interface Readiness {
  readonly ready: boolean;
  /** Why the node is not ready: stable machine-readable codes such as "TOO_FEW_PEERS"; empty when ready. */
  readonly reasons: readonly string[];
  /** Figures behind the verdict (height, peers, ...), returned as fields of the response body. */
  readonly details?: Readonly<Record<string, number | string | boolean>>;
}

/** A metrics scrape: the body and the content type to serve it with. */
export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

/** A governance proposal's state at the next height: "expired" once past its last approvable height. */
export type ProposalStatusView = "open" | "executed" | "expired";

/** A governance proposal (docs/governance.md), as GET /gov/proposals renders it. */
export interface ProposalView {
  readonly id: number;
  /** The action: add-member, add-validator, ... */
  readonly action: string;
  readonly args: readonly Value[];
  /** The meaning of each of `args` (the action's argument names), when the node knows the action. */
  readonly argNames?: readonly string[];
  readonly proposer: Uint8Array;
  /** The proposer's organisation (the first approval). */
  readonly proposerOrg?: string;
  readonly createdAt: number;
  /** The last height at which it can still be approved. */
  readonly expiresAt: number;
  /** The height it took effect at, once executed. */
  readonly executedAt?: number;
  /** Organisations that approved it, in order (the proposer's first). */
  readonly approvals: readonly string[];
  /** Approvals it needs to pass now (from the current organisations and the threshold). */
  readonly needed: number;
  readonly status: ProposalStatusView;
}

/** Which proposals GET /gov/proposals lists: of one status (all without), newest first, at most `limit`. */
export interface ProposalFilter {
  readonly status?: ProposalStatusView;
  readonly limit: number;
}

/** A registered identity with its key (GET /gov/identities/:publicKey, GET /gov/organizations). */
export interface GovIdentityView extends IdentityView {
  readonly publicKey: Uint8Array;
}

export interface OrganizationView {
  readonly name: string;
  readonly identities: readonly GovIdentityView[];
}

/** The validator set deciding the next height, and every change of it on record. */
export interface ValidatorScheduleView {
  /** The height `validators` decide (head + 1). */
  readonly height: number;
  readonly validators: readonly Validator[];
  /** Ascending: the set from each height on. */
  readonly schedule: readonly { readonly from: number; readonly validators: readonly Validator[] }[];
}

/** A node admitted to the chain's peer-to-peer network (the node registry). */
export interface NodeRecordView {
  readonly peerId: string;
  readonly name: string;
  /** The organisation that runs it ("" on an open chain). */
  readonly org: string;
}

/** Governance parameters, fixed at genesis; only a permissioned chain has them. */
export interface GovParamsView {
  /** A proposal passes when more than this percentage of the organisations approved it. */
  readonly thresholdPercent: number;
  /** Blocks a proposal stays open after the height it was made at. */
  readonly proposalTtl: number;
  /** A validator set change approved at height h takes effect at h + validatorDelay. */
  readonly validatorDelay: number;
  /** Organisations now. */
  readonly organizations: number;
  /** Approvals a proposal needs now. */
  readonly needed: number;
}

/** A private data collection's definition (GET /gov/collections). */
export type CollectionView = CollectionJson;

/** The plaintext of a private key as a member node holds it. */
export interface PrivateDataView {
  readonly collection: string;
  readonly key: Uint8Array;
  readonly keyHash: Uint8Array;
  readonly value: Uint8Array;
  readonly salt: Uint8Array;
  readonly valueHash: Uint8Array;
  readonly height: number;
  readonly txHash: Uint8Array;
  readonly expiresAt?: number;
}

/** What every node holds of a private key: its committed value hash. */
export interface PrivateHashView {
  readonly collection: string;
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array | undefined;
  readonly height: number;
}

/** A refusal with a stable code (ERROR_STATUS gives its HTTP status). */
export interface Refused {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
}

export interface ApiBackend {
  /** The chain's read policy (default "open" when the method is absent). */
  readAccess?(): ReadAccess;
  /** The registered identity of a key, or undefined when the key is not a member. */
  identity?(publicKey: Uint8Array): IdentityView | undefined;
  status(): NodeStatus;
  /** Admits transactions into the mempool; each succeeds or fails on its own. */
  submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]>;
  /**
   * Submits one transaction with the plaintext of its private writes (docs/privacy.md): this node
   * must be a member of every collection written; it keeps the plaintext, pushes it to other member
   * nodes, then admits the transaction as `submit` does.
   */
  submitPrivate?(envelope: Uint8Array, writes: readonly PrivateWrite[]): Promise<SubmitResult>;
  /** The plaintext of a private key, for `reader` (a verified signed read). */
  privateData?(
    collection: string,
    key: Uint8Array,
    reader: Uint8Array,
  ): Promise<({ readonly ok: true } & PrivateDataView) | Refused>;
  /** The committed hash of a private key (anyone who may read state may read it). */
  privateHash?(collection: string, key: Uint8Array): Promise<PrivateHashView | Refused>;
  govCollections?(): readonly CollectionView[];
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
  /**
   * Whether the node should be sent traffic (GET /ready): consensus running, enough peers, not
   * catching up. Without it, readiness is `healthy()`.
   */
  readiness?(): Readiness;
  /** The node's metrics in the Prometheus text format (GET /metrics); without it the route is 404. */
  metrics?(): Promise<MetricsExposition>;
  /** Evidence of misbehaviour this node has recorded, oldest height first, filtered and paged. */
  evidence(query: EvidenceQuery): { readonly items: readonly EvidenceView[]; readonly total: number };
  /** One piece of evidence with its block (GET /evidence/:id). */
  evidenceById?(id: string): Promise<EvidenceView | undefined>;
  /**
   * A transaction's journey through this node's layers (GET /txs/:hash/trace): each trace point it
   * reached, in time order; undefined when this node traced no such transaction.
   */
  txTrace?(hash: Uint8Array): TxTraceView | undefined;
  /**
   * The consensus engine's recent events after sequence number `after` (GET /consensus/events):
   * steps, proposals, votes, timeouts, locks, commits, evidence; `last` is the newest number.
   */
  consensusEvents?(
    after: number,
    limit: number,
  ): { readonly last: number; readonly events: readonly RecentView<ConsensusEventData>[] };
  /** The node's recent log lines (info and above) after `after`, filtered by layer and least level (GET /logs). */
  logs?(
    after: number,
    limit: number,
    filter: { readonly layer?: string; readonly level?: LogLineLevel },
  ): { readonly last: number; readonly lines: readonly RecentView<LogLineData>[] };
  // Governance (GET /gov/*, docs/governance.md). Without these methods, or on a chain without
  // governance (an open chain), the routes answer empty lists.
  /** Proposals by `filter`, newest first; empty on a chain without governance. */
  govProposals?(filter: ProposalFilter): Promise<readonly ProposalView[]>;
  govProposal?(id: number): Promise<ProposalView | undefined>;
  /** The organisations with their identities (revoked ones included, inactive). */
  govOrganizations?(): readonly OrganizationView[];
  /** A key's identity, revoked ones included; undefined when the key was never a member. */
  govIdentity?(publicKey: Uint8Array): GovIdentityView | undefined;
  govValidators?(): ValidatorScheduleView;
  govNodes?(): readonly NodeRecordView[];
  /** Undefined on a chain without governance. */
  govParams?(): GovParamsView | undefined;
}
