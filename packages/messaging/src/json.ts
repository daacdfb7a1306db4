// The JSON the HTTP API serves and the SDK reads: one definition of the wire views for both sides.
// Hashes, keys and signatures are lower-case hex without a prefix.

/** A contract value as JSON: binary as "0x"-prefixed hex, 64-bit integers beyond 2^53 as decimal strings. */
export type JsonValue = null | boolean | number | string | JsonValue[];

export interface TxJson {
  readonly chainId: string;
  readonly sender: string;
  readonly nonce: string;
  readonly expiry: number;
  readonly contract: string;
  readonly method: string;
  /** For reading; `envelope` is the authoritative form. */
  readonly args: readonly JsonValue[];
  /** Present on a transaction with private writes: their salted hashes (never the plaintext). */
  readonly private?: readonly PrivateRefJson[];
  readonly signature: string;
  /** The canonical envelope, hex: decode it with @cairn/messaging `decodeTransaction`. */
  readonly envelope: string;
}

/** A private write's reference as a transaction carries it (hex hashes). */
export interface PrivateRefJson {
  readonly collection: string;
  readonly keyHash: string;
  readonly valueHash: string;
}

/** A private data collection's definition (GET /gov/collections; docs/privacy.md). */
export interface CollectionJson {
  /** 1-64 letters, digits, '.', '_' or '-'. */
  readonly name: string;
  /** Organisation names, at least one: their nodes hold the plaintext. */
  readonly members: readonly string[];
  /** Other member nodes that must hold the plaintext before the submitting node accepts a transaction. */
  readonly requiredPeerCount: number;
  /** The most other member nodes the submitting node pushes the plaintext to. */
  readonly maxPeerCount: number;
  /** Blocks after the writing block at whose commit the plaintext is purged; 0: kept until purged. */
  readonly blockToLive: number;
  /** Only identities of member organisations may read the plaintext. */
  readonly memberOnlyRead: boolean;
  /** Only identities of member organisations may send transactions writing to it. */
  readonly memberOnlyWrite: boolean;
}

export interface CollectionsJson {
  readonly collections: readonly CollectionJson[];
}

/** GET /private/:collection/:key — the plaintext, to a member. */
export interface PrivateDataJson {
  readonly collection: string;
  readonly key: string;
  readonly keyHash: string;
  readonly value: string;
  readonly salt: string;
  readonly valueHash: string;
  /** Height of the block that wrote it. */
  readonly height: number;
  readonly txHash: string;
  /** Height whose commit purges it (written height + blockToLive); absent when kept until purged. */
  readonly expiresAt?: number;
}

/** GET /private/:collection/:key/hash — what every node holds of a private key. */
export interface PrivateHashJson {
  readonly collection: string;
  readonly keyHash: string;
  /** The committed value hash; absent when the key was never written. */
  readonly valueHash?: string;
  readonly height: number;
}

export interface ReceiptJson {
  readonly txHash: string;
  readonly code: string;
  readonly message: string;
  readonly events: readonly { readonly contract: string; readonly name: string; readonly data: JsonValue }[];
  readonly gasUsed: number;
}

export interface ProofJson {
  readonly index: number;
  readonly size: number;
  readonly path: readonly string[];
}

export interface HeaderJson {
  /** The header format version: element 0 of its encoding (docs/spec/block.md), 1. */
  readonly version: number;
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

export interface CommitJson {
  readonly height: number;
  readonly round: number;
  readonly blockHash: string;
  readonly signatures: readonly { readonly validator: string; readonly signature: string }[];
}

export interface BlockJson {
  readonly height: number;
  readonly hash: string;
  readonly header: HeaderJson;
  /** SHA-256 of each envelope, in block order. */
  readonly txs: readonly string[];
  /** The envelopes themselves, hex; only with `?txs=full`. */
  readonly envelopes?: readonly string[];
  readonly receipts: readonly ReceiptJson[];
  /** Total gas of the block's transactions (the sum of the receipts' gasUsed). */
  readonly gasUsed: number;
  /** The certificate committing this block; null while not yet known. */
  readonly commit: CommitJson | null;
  /** The parent's certificate, carried inside this block. */
  readonly lastCommit: CommitJson | null;
}

export interface StateProofJson {
  readonly siblings: readonly string[];
  /** For a proof of absence ending at another key's leaf: that leaf's hashes; otherwise null. */
  readonly leaf: { readonly keyHash: string; readonly valueHash: string } | null;
}

export interface StateJson {
  readonly contract: string;
  /** The key, hex. */
  readonly key: string;
  /** The value, hex; null when the key is absent. */
  readonly value: string | null;
  /** The value as text, when it is valid UTF-8. */
  readonly utf8?: string;
  readonly height: number;
  readonly stateRoot: string;
  readonly proof: StateProofJson;
}

export interface StatusJson {
  readonly chainId: string;
  readonly nodeId: string;
  readonly moniker: string;
  readonly version: string;
  readonly height: number;
  readonly blockHash: string;
  readonly stateRoot: string;
  readonly blockTime: number;
  readonly genesisHash: string;
  readonly validators: readonly { readonly publicKey: string; readonly power: number; readonly name: string }[];
  readonly mempool: { readonly size: number; readonly bytes: number; readonly maxSize: number };
  /** `height` is the height being decided (head + 1). */
  readonly consensus: {
    readonly engine: string;
    readonly height: number;
    /** Raft: the term. */
    readonly round: number;
    /** Raft: the role. */
    readonly step: string;
    readonly raft?: RaftStatusJson;
  };
  readonly clock?: { readonly offsetMs: number };
  readonly maxTxTtl: number;
  readonly peers: readonly string[];
  /** Connected peers and the size of the member set (this node included). */
  readonly network: { readonly peers: number; readonly members: number };
  /** Whether block sync is running now; when (ms since epoch) it last brought in missed blocks. */
  readonly sync: { readonly catchingUp: boolean; readonly lastCaughtUpAt?: number };
  /** "validator" when the node's key is in the current validator set, else "observer". */
  readonly role: "validator" | "observer";
}

/** GET /evidence: conflicting votes of one validator (equivocation). */
export interface EvidenceJson {
  readonly id: string;
  readonly kind: "duplicate-vote" | "conflicting-proposal" | "invalid-proposal";
  readonly validator: string;
  readonly height: number;
  readonly round: number;
  readonly type?: number;
  readonly votes?: readonly { readonly blockHash: string; readonly signature: string }[];
  readonly proposals?: readonly { readonly polRound: number; readonly blockHash: string; readonly signature: string }[];
  readonly reason?: string;
  readonly block?: string;
}

export interface BlockEventJson {
  readonly height: number;
  readonly hash: string;
  readonly time: number;
  readonly txCount: number;
  readonly stateRoot: string;
  /** Total gas of the block's transactions. */
  readonly gasUsed: number;
  readonly receipts: readonly { readonly txHash: string; readonly code: string; readonly gasUsed: number }[];
}

/** POST /query with a JSON body. */
export interface QueryRequestJson {
  readonly contract: string;
  readonly method: string;
  /** Hex of the canonical encoding of the args array; absent means no arguments. */
  readonly args?: string;
}

/**
 * POST /query: the outcome of a read-only contract call on the committed state. A failure of the
 * contract is a result (`ok: false` with its code), not an HTTP error.
 */
export type QueryResultJson =
  | {
      readonly ok: true;
      /** The return value for reading; null when the method returned nothing (`outputHex` is authoritative). */
      readonly output: JsonValue;
      /** The canonical bytes of the return value, hex; "" when the method returned nothing. */
      readonly outputHex: string;
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

/** GET /contracts/:name */
export interface ContractJson {
  readonly name: string;
  readonly kind: "native" | "wasm";
  readonly methods: readonly string[];
  /** Deployed contracts only: SHA-256 of the stored (instrumented) module, hex. */
  readonly codeHash?: string;
  /** 1 at deploy, +1 per upgrade. */
  readonly version?: number;
  /** Public key of the admin that deployed it, hex. */
  readonly deployer?: string;
  /** Height of the deploy. */
  readonly deployedAt?: number;
  /** Height of the latest deploy or upgrade. */
  readonly updatedAt?: number;
  /** Size of the stored module, bytes. */
  readonly codeSize?: number;
}

/** The error body of every 4xx/5xx answer. */
export interface ErrorJson {
  readonly code: string;
  readonly message: string;
}

// Governance (GET /gov/*, docs/governance.md).

/** A governance proposal. Binary arguments (public keys) are hex without a prefix. */
export interface ProposalJson {
  readonly id: number;
  /** add-org, add-member, add-validator, add-node, ... */
  readonly action: string;
  readonly args: readonly JsonValue[];
  /** The meaning of each of `args` ("publicKey", "org", "roles", ...); empty when the node does not know the action. */
  readonly argNames: readonly string[];
  readonly proposer: string;
  /** The proposer's organisation (its first approval). */
  readonly proposerOrg?: string;
  readonly createdAt: number;
  /** The last height at which it can still be approved. */
  readonly expiresAt: number;
  /** The height it took effect at, once executed. */
  readonly executedAt?: number;
  /** Organisations that approved it, in order. */
  readonly approvals: readonly string[];
  /** Approvals it needs to pass, as the organisations stand now. */
  readonly needed: number;
  /** As of the next height: "expired" once past `expiresAt` without passing. */
  readonly status: "open" | "executed" | "expired";
}

/** GET /gov/proposals: newest first. */
export interface ProposalListJson {
  /** The committed height the statuses were judged after (they hold for height + 1). */
  readonly height: number;
  readonly proposals: readonly ProposalJson[];
}

/** GET /gov/identities/:publicKey, and each identity of GET /gov/organizations. */
export interface GovIdentityJson {
  readonly publicKey: string;
  readonly org: string;
  readonly roles: readonly string[];
  /** False once revoked (or its organisation removed). */
  readonly active: boolean;
}

/** GET /gov/organizations: empty on an open chain. */
export interface OrganizationsJson {
  readonly organizations: readonly {
    readonly name: string;
    readonly identities: readonly GovIdentityJson[];
  }[];
}

export interface ValidatorJson {
  readonly publicKey: string;
  readonly power: number;
  readonly name: string;
}

/** GET /gov/validators: the set deciding the next height, and the schedule of changes. */
export interface GovValidatorsJson {
  /** The height `validators` decide (head + 1). */
  readonly height: number;
  readonly validators: readonly ValidatorJson[];
  /** Ascending: the set from each height on (a change approved at h appears from h + validatorDelay). */
  readonly schedule: readonly { readonly from: number; readonly validators: readonly ValidatorJson[] }[];
}

/** GET /gov/nodes: the node registry (libp2p peer ids allowed on the network). */
export interface GovNodesJson {
  readonly nodes: readonly { readonly peerId: string; readonly name: string; readonly org: string }[];
}

/** GET /gov/params: `permissioned` false (and nothing else) on a chain without governance. */
export interface GovParamsJson {
  readonly permissioned: boolean;
  readonly thresholdPercent?: number;
  readonly proposalTtl?: number;
  readonly validatorDelay?: number;
  /** Organisations now. */
  readonly organizations?: number;
  /** Approvals a proposal needs now. */
  readonly needed?: number;
}

/** The trace points of a transaction's journey through a node (GET /txs/:hash/trace), in path order. */
export const TRACE_POINTS = [
  "received",
  "decoded",
  "verified",
  "admitted",
  "gossiped",
  "proposed",
  "voted",
  "executed",
  "committed",
  "streamed",
] as const;
export type TracePoint = (typeof TRACE_POINTS)[number];

/**
 * One thing a consensus engine saw or did (GET /consensus/events, without its `seq` and `timeUs`).
 * Keys and hashes are lower-case hex; a nil vote has `blockHash: null`.
 */
export type ConsensusEventData =
  | {
      readonly kind: "step";
      readonly height: number;
      readonly round: number;
      readonly step: string;
      /** What moved the machine: "start", "proposal", "prevote", "precommit", "own proposal", "commit", "timeout propose", ... */
      readonly cause: string;
    }
  | {
      readonly kind: "proposal";
      readonly height: number;
      readonly round: number;
      readonly proposer: string;
      readonly blockHash: string;
      readonly polRound: number;
      readonly own: boolean;
    }
  | {
      readonly kind: "vote";
      readonly height: number;
      readonly round: number;
      readonly type: "prevote" | "precommit";
      readonly validator: string;
      readonly blockHash: string | null;
      readonly own: boolean;
    }
  | { readonly kind: "timeout"; readonly height: number; readonly round: number; readonly step: string }
  | { readonly kind: "lock"; readonly height: number; readonly round: number; readonly lockedRound: number }
  | {
      readonly kind: "commit";
      readonly height: number;
      readonly round: number;
      readonly blockHash: string;
      readonly txs: number;
    }
  | { readonly kind: "evidence"; readonly height: number; readonly evidence: string }
  | {
      /** Raft: a pre-vote or vote granted or refused (`round` is the term the candidate runs in). */
      readonly kind: "election";
      readonly height: number;
      readonly round: number;
      readonly type: "pre-vote" | "vote";
      readonly candidate: string;
      readonly voter: string;
      readonly granted: boolean;
    };

/** When an entry of a node's recent-events buffer was recorded: its sequence number and wall-clock µs. */
export interface RecentStamp {
  readonly seq: number;
  readonly timeUs: number;
}

export type ConsensusEventJson = RecentStamp & ConsensusEventData;

/** GET /consensus/events */
export interface ConsensusEventsJson {
  /** The newest event's sequence number: ask with `after` = this next time. */
  readonly last: number;
  readonly events: readonly ConsensusEventJson[];
}

/** Raft's state on a node (GET /status consensus.raft; docs/consensus.md). Keys are hex. */
export interface RaftStatusJson {
  readonly role: "follower" | "precandidate" | "candidate" | "leader" | "learner";
  readonly term: number;
  /** The leader this node follows, null while it knows none. */
  readonly leader: string | null;
  /** Highest height known committed (applied here, or certified and being applied). */
  readonly commitIndex: number;
  /** Highest height in this node's ledger. */
  readonly appliedIndex: number;
  /** Last height in this node's log (commitIndex + 1 while a block is being replicated). */
  readonly lastIndex: number;
  /** Whom this node voted for in this term. */
  readonly votedFor: string | null;
}

/** The levels GET /logs keeps, least severe first. */
export const LOG_LINE_LEVELS = ["info", "warn", "error", "fatal"] as const;
export type LogLineLevel = (typeof LOG_LINE_LEVELS)[number];

/** A log line as GET /logs serves it, without its `seq` and `timeUs`. */
export interface LogLineData {
  readonly level: LogLineLevel;
  /** The logging channel (`node` for the root logger). */
  readonly layer: string;
  readonly msg: string;
}

export type LogLineJson = RecentStamp & LogLineData;

/** GET /logs */
export interface LogsJson {
  readonly last: number;
  readonly lines: readonly LogLineJson[];
}
