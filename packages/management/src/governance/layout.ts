import { concatBytes } from "@cairn/crypto";
import { type CollectionJson, decode, encode, type Validator, type Value } from "@cairn/messaging";
import type { Role } from "../privilege/roles.ts";

// Where governance keeps its records: the `gov` namespace of the world state, so every record is
// covered by the state root and provable like any other state. One place for every key and codec.

export const GOV_CONTRACT = "gov";

const text = new TextEncoder();
const untext = new TextDecoder();

export const GovPrefix = {
  org: text.encode("org/"),
  identity: text.encode("id/"),
  /** u64be height → the validator set from that height on. */
  validators: text.encode("vset/"),
  node: text.encode("node/"),
  proposal: text.encode("prop/"),
  /** collection name → its definition (private data collections, docs/privacy.md). */
  collection: text.encode("coll/"),
} as const;

/** Governance parameters, fixed at genesis. */
export const PARAMS_KEY = text.encode("meta/params");
/** The names of the organisations (small: read whole by the threshold rule). */
export const ORGS_KEY = text.encode("meta/orgs");
/** [fromHeight, validators] of the latest scheduled validator set. */
export const LATEST_VALIDATORS_KEY = text.encode("meta/validators");
export const NEXT_PROPOSAL_KEY = text.encode("meta/next-proposal");

function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(b: Uint8Array, offset = 0): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset));
}

export const orgKey = (name: string) => concatBytes(GovPrefix.org, text.encode(name));
export const identityKey = (publicKey: Uint8Array) => concatBytes(GovPrefix.identity, publicKey);
export const validatorsKey = (fromHeight: number) => concatBytes(GovPrefix.validators, u64be(fromHeight));
export const nodeKey = (peerId: string) => concatBytes(GovPrefix.node, text.encode(peerId));
export const collectionKey = (name: string) => concatBytes(GovPrefix.collection, text.encode(name));
export const proposalKey = (id: number) => concatBytes(GovPrefix.proposal, u64be(id));
export const keySuffix = (key: Uint8Array, prefix: Uint8Array) => key.subarray(prefix.length);
export const textOf = (b: Uint8Array) => untext.decode(b);

export interface GovParams {
  /** A proposal passes when more than this percentage of the organisations approved it. */
  readonly thresholdPercent: number;
  /** Blocks a proposal stays open after the height it was made at. */
  readonly proposalTtl: number;
  /** A validator set change approved at height h takes effect at h + validatorDelay. */
  readonly validatorDelay: number;
  /**
   * Set on Raft chains: the validator set changes by one member at a time (one add or remove, none
   * pending), so any majority of the old set meets any majority of the new one.
   */
  readonly oneValidatorChange?: boolean;
}

// The flag is encoded only when set, so the state (and root) of every Tendermint chain is unchanged.
export const encodeParams = (p: GovParams) =>
  encode([p.thresholdPercent, p.proposalTtl, p.validatorDelay, ...(p.oneValidatorChange === true ? [1] : [])]);
export function decodeParams(b: Uint8Array): GovParams {
  const [thresholdPercent, proposalTtl, validatorDelay, one] = decode(b) as number[];
  return {
    thresholdPercent: thresholdPercent as number,
    proposalTtl: proposalTtl as number,
    validatorDelay: validatorDelay as number,
    ...(one === 1 ? { oneValidatorChange: true } : {}),
  };
}

/** Organisations needed to pass a proposal: more than `percent` of them, at least one. */
export function approvalsNeeded(orgs: number, percent: number): number {
  return Math.max(1, Math.min(orgs, Math.floor((orgs * percent) / 100) + 1));
}

export const encodeNames = (names: readonly string[]) => encode(names as string[]);
export const decodeNames = (b: Uint8Array) => decode(b) as string[];

/** A member key of an organisation. A revoked identity stays on record, inactive, so errors can say so. */
export interface Identity {
  readonly publicKey: Uint8Array;
  readonly org: string;
  readonly roles: readonly Role[];
  readonly active: boolean;
}

export const encodeIdentity = (i: Identity) => encode([i.org, i.roles as string[], i.active]);
export function decodeIdentity(publicKey: Uint8Array, b: Uint8Array): Identity {
  const [org, roles, active] = decode(b) as [string, Role[], boolean];
  return { publicKey, org, roles, active };
}

export const encodeValidators = (vs: readonly Validator[]) =>
  encode(vs.map((v) => [v.publicKey, v.power, v.name]) as Value[]);
export function decodeValidators(b: Uint8Array): Validator[] {
  return (decode(b) as [Uint8Array, number, string][]).map(([publicKey, power, name]) => ({ publicKey, power, name }));
}

export const encodeLatestValidators = (from: number, vs: readonly Validator[]) => encode([from, encodeValidators(vs)]);
export function decodeLatestValidators(b: Uint8Array): { from: number; validators: Validator[] } {
  const [from, vs] = decode(b) as [number, Uint8Array];
  return { from, validators: decodeValidators(vs) };
}

/** A node admitted to the chain's peer-to-peer network (the node registry). */
export interface NodeRecord {
  readonly peerId: string;
  readonly name: string;
  readonly org: string;
}

export const encodeNode = (n: NodeRecord) => encode([n.name, n.org]);
export function decodeNode(peerId: string, b: Uint8Array): NodeRecord {
  const [name, org] = decode(b) as [string, string];
  return { peerId, name, org };
}

export type ProposalStatus = "open" | "executed";

export interface Proposal {
  readonly id: number;
  readonly action: string;
  readonly args: readonly Value[];
  readonly proposer: Uint8Array;
  readonly createdAt: number;
  /** The last height at which it can still be approved. */
  readonly expiresAt: number;
  /** Organisations that approved, in order (the proposer's first). */
  readonly approvals: readonly string[];
  readonly status: ProposalStatus;
  /** Height it took effect at; 0 while open. */
  readonly executedAt: number;
}

export const encodeProposal = (p: Proposal) =>
  encode([
    p.id,
    p.action,
    p.args as Value[],
    p.proposer,
    p.createdAt,
    p.expiresAt,
    p.approvals as string[],
    p.status,
    p.executedAt,
  ]);

export function decodeProposal(b: Uint8Array): Proposal {
  const f = decode(b) as Value[];
  return {
    id: f[0] as number,
    action: f[1] as string,
    args: f[2] as Value[],
    proposer: f[3] as Uint8Array,
    createdAt: f[4] as number,
    expiresAt: f[5] as number,
    approvals: f[6] as string[],
    status: f[7] as ProposalStatus,
    executedAt: f[8] as number,
  };
}

/** "open", "executed", or "expired" once the chain is past its last approvable height. */
export function proposalState(p: Proposal, height: number): ProposalStatus | "expired" {
  return p.status === "open" && height > p.expiresAt ? "expired" : p.status;
}

/**
 * A private data collection (docs/privacy.md): the organisations whose nodes hold the plaintext of
 * its writes; everyone else holds only their salted hashes. Its fields are documented with the
 * wire shape it shares (GET /gov/collections).
 */
export type Collection = CollectionJson;

export const encodeCollection = (c: Collection) =>
  encode([
    c.members as string[],
    c.requiredPeerCount,
    c.maxPeerCount,
    c.blockToLive,
    c.memberOnlyRead,
    c.memberOnlyWrite,
  ]);
export function decodeCollection(name: string, b: Uint8Array): Collection {
  const [members, requiredPeerCount, maxPeerCount, blockToLive, memberOnlyRead, memberOnlyWrite] = decode(b) as [
    string[],
    number,
    number,
    number,
    boolean,
    boolean,
  ];
  return { name, members, requiredPeerCount, maxPeerCount, blockToLive, memberOnlyRead, memberOnlyWrite };
}
