// On-chain governance through the SDK (docs/governance.md): reads of GET /gov/* and the `gov`
// contract's transactions. Organisation admins propose and approve changes; any member rotates or
// revokes its own key (an admin also the keys of its organisation).
import { PUBLIC_KEY_LENGTH, toHex } from "@cairn/crypto";
import type {
  CollectionJson,
  CollectionsJson,
  GovIdentityJson,
  GovNodesJson,
  GovParamsJson,
  GovValidatorsJson,
  OrganizationsJson,
  ProposalJson,
  ProposalListJson,
  Value,
} from "@cairn/messaging";
import { bytesOf } from "./bytes.ts";
import { CairnApiError, CairnClientError } from "./errors.ts";
import type { ContractCall } from "./tx.ts";
import type { ApiErrorBody, Receipt, SubmitResult, TxStatus } from "./types.ts";

export type ProposalInfo = ProposalJson;
export type ProposalStatus = ProposalJson["status"];
export type GovIdentityInfo = GovIdentityJson;
export type OrganizationInfo = OrganizationsJson["organizations"][number];
/** A private data collection's definition (docs/privacy.md). */
export type CollectionInfo = CollectionJson;
export type GovValidatorsInfo = GovValidatorsJson;
export type GovNodeInfo = GovNodesJson["nodes"][number];
export type GovParamsInfo = GovParamsJson;

/** The name of the native governance contract. */
export const GOV_CONTRACT = "gov";

/**
 * The governance actions and the meaning of their arguments, as the chain defines them
 * (@cairn/management ACTIONS). `publicKey` and `newKey` are 32-byte keys (bytes or hex), `roles` a
 * list of admin, client, deployer, auditor, validator, `power` an integer; the rest are names.
 */
export const GOV_ACTIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "add-org": ["name"],
  "remove-org": ["name"],
  "add-member": ["publicKey", "org", "roles"],
  "set-roles": ["publicKey", "roles"],
  "revoke-member": ["publicKey"],
  "add-validator": ["publicKey", "power", "name"],
  "remove-validator": ["publicKey"],
  "rotate-validator": ["publicKey", "newKey"],
  "add-node": ["peerId", "name", "org"],
  "remove-node": ["peerId"],
  "define-collection": [
    "name",
    "members",
    "requiredPeerCount",
    "maxPeerCount",
    "blockToLive",
    "memberOnlyRead",
    "memberOnlyWrite",
  ],
  "remove-collection": ["name"],
});

const KEY_ARGS = new Set(["publicKey", "newKey"]);

function proposalId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1)
    throw new CairnClientError("BAD_ARGS", "a proposal id is a positive integer");
  return id;
}

/** Calls of the `gov` contract, for `signer.send` (the `client.gov` helpers also wait for the commit). */
export const governance = {
  /**
   * Proposes `action` with its arguments (see GOV_ACTIONS); keys may be given as hex. The
   * proposer's organisation approves at once. Admin keys only.
   */
  propose(action: string, args: readonly Value[] | readonly (Value | string)[]): ContractCall {
    if (typeof action !== "string" || !Object.hasOwn(GOV_ACTIONS, action)) {
      throw new CairnClientError(
        "UNKNOWN_ACTION",
        `no governance action ${JSON.stringify(action)}; known: ${Object.keys(GOV_ACTIONS).join(", ")}`,
      );
    }
    const names = GOV_ACTIONS[action] as readonly string[];
    if (!Array.isArray(args) || args.length !== names.length) {
      throw new CairnClientError("BAD_ARGS", `${action} takes ${names.length} argument(s): ${names.join(", ")}`);
    }
    const values = args.map((a, i) => {
      const name = names[i] as string;
      return KEY_ARGS.has(name) ? bytesOf(a as Uint8Array | string, name, PUBLIC_KEY_LENGTH) : (a as Value);
    });
    return { contract: GOV_CONTRACT, method: "propose", args: [action, values] };
  },
  /** Approves proposal `id` for the signer's organisation. Admin keys only. */
  approve(id: number): ContractCall {
    return { contract: GOV_CONTRACT, method: "approve", args: [proposalId(id)] };
  },
  /** Moves the signer's organisation and roles to `newPublicKey`; the signing key is revoked. */
  rotate(newPublicKey: Uint8Array | string): ContractCall {
    return { contract: GOV_CONTRACT, method: "rotate", args: [bytesOf(newPublicKey, "newKey", PUBLIC_KEY_LENGTH)] };
  },
  /** Revokes `publicKey`: the signer's own, or (for an admin) one of its organisation's. */
  revoke(publicKey: Uint8Array | string): ContractCall {
    return { contract: GOV_CONTRACT, method: "revoke", args: [bytesOf(publicKey, "publicKey", PUBLIC_KEY_LENGTH)] };
  },
};

/** What a governance transaction did, from its receipt's events. */
export interface GovEvents {
  /** propose: the new proposal's id. */
  readonly proposalId?: number;
  /** propose, approve: whether the proposal took effect in this transaction. */
  readonly executed: boolean;
}

/** Reads the `gov` events of a receipt: `proposed` [id, action, org], `approved` [id, org], `executed` [id, action]. */
export function govEvents(receipt: Receipt | undefined): GovEvents {
  let id: number | undefined;
  let executed = false;
  for (const e of receipt?.events ?? []) {
    if (e.contract !== GOV_CONTRACT || !Array.isArray(e.data)) continue;
    if (e.name === "proposed" && typeof e.data[0] === "number") id = e.data[0];
    if (e.name === "executed") executed = true;
  }
  return { ...(id === undefined ? {} : { proposalId: id }), executed };
}

/**
 * The outcome of a `client.gov` transaction, after waiting for its commit. A transaction the node
 * refuses at admission (ROLE_REQUIRED, BAD_ARGS, ...) throws CairnApiError instead.
 */
export interface GovTxResult extends GovEvents {
  /** True when it committed with receipt code OK. */
  readonly ok: boolean;
  readonly hash: string;
  /** "committed", or "pending" when the wait timed out, or "rejected" when the node dropped it. */
  readonly status: TxStatus;
  readonly height?: number;
  /** Once committed: its code is OK or why the contract refused (PROPOSAL_EXPIRED, ROLE_REQUIRED, ...). */
  readonly receipt?: Receipt;
  /** Why the node dropped it (status "rejected"). */
  readonly error?: ApiErrorBody;
}

/** What `client.gov` sends with: the `send` of a signer (see `client.signer`). */
export interface GovSigner {
  send(call: ContractCall, opts?: { wait?: "commit"; timeoutMs?: number; signal?: AbortSignal }): Promise<SubmitResult>;
}

export interface GovTxOptions {
  /** How long the node waits for the commit, ms (the node bounds it). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface GovProposalsOptions {
  /** Default "all". */
  readonly status?: ProposalStatus | "all";
  /** Default 100 (the node's default), at most 1000. */
  readonly limit?: number;
}

/** `client.gov`: governance reads and transactions. */
export interface GovApi {
  /** Proposals, newest first; empty on a chain without governance. */
  proposals(opts?: GovProposalsOptions): Promise<ProposalInfo[]>;
  /** A proposal, or undefined when there is none with this id. */
  proposal(id: number): Promise<ProposalInfo | undefined>;
  /** The organisations with their identities; empty on an open chain. */
  organizations(): Promise<OrganizationInfo[]>;
  /** A key's identity (revoked ones included, `active: false`), or undefined when it is not one. */
  identity(publicKey: Uint8Array | string): Promise<GovIdentityInfo | undefined>;
  /** The validator set deciding the next height, and the schedule of changes. */
  validators(): Promise<GovValidatorsInfo>;
  /** The node registry: peer ids allowed on the network. */
  nodes(): Promise<GovNodeInfo[]>;
  /** Threshold, proposal TTL, validator delay; `permissioned: false` on an open chain. */
  params(): Promise<GovParamsInfo>;
  /** Private data collections (docs/privacy.md); empty when none is defined. */
  collections(): Promise<CollectionInfo[]>;
  /** Proposes `action` (see GOV_ACTIONS) and waits for the commit: `proposalId`, `executed`. */
  propose(
    signer: GovSigner,
    action: string,
    args: readonly (Value | string)[],
    opts?: GovTxOptions,
  ): Promise<GovTxResult>;
  /** Approves proposal `id` and waits for the commit: `executed` when this approval passed it. */
  approve(signer: GovSigner, id: number, opts?: GovTxOptions): Promise<GovTxResult>;
  /** Moves the signer's identity to `newPublicKey` (the signing key is revoked) and waits for the commit. */
  rotate(signer: GovSigner, newPublicKey: Uint8Array | string, opts?: GovTxOptions): Promise<GovTxResult>;
  /** Revokes `publicKey` and waits for the commit. */
  revoke(signer: GovSigner, publicKey: Uint8Array | string, opts?: GovTxOptions): Promise<GovTxResult>;
}

/** How `client.gov` reads: a GET of `path` whose answers with a status in `accept` are returned. */
export type GovGet = <T>(path: string, accept?: readonly number[]) => Promise<T>;

async function undefinedOn<T>(code: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof CairnApiError && err.code === code) return undefined;
    throw err;
  }
}

async function sendGov(signer: GovSigner, call: ContractCall, o: GovTxOptions = {}): Promise<GovTxResult> {
  const r = await signer.send(call, {
    wait: "commit",
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  return {
    ok: r.status === "committed" && r.receipt?.code === "OK",
    hash: r.hash ?? "",
    status: r.status ?? "rejected",
    ...(r.height === undefined ? {} : { height: r.height }),
    ...(r.receipt === undefined ? {} : { receipt: r.receipt }),
    ...(r.error === undefined ? {} : { error: r.error }),
    ...govEvents(r.receipt),
  };
}

export function createGovApi(get: GovGet): GovApi {
  return {
    async proposals(o = {}) {
      const q = new URLSearchParams();
      if (o.status !== undefined) q.set("status", o.status);
      if (o.limit !== undefined) q.set("limit", String(o.limit));
      const qs = q.toString();
      return [...(await get<ProposalListJson>(`/gov/proposals${qs === "" ? "" : `?${qs}`}`)).proposals];
    },
    proposal: async (id) =>
      undefinedOn("PROPOSAL_NOT_FOUND", () => get<ProposalInfo>(`/gov/proposals/${proposalId(id)}`)),
    organizations: async () => [...(await get<OrganizationsJson>("/gov/organizations")).organizations],
    identity: async (publicKey) => {
      const hex = toHex(bytesOf(publicKey, "publicKey", PUBLIC_KEY_LENGTH));
      return undefinedOn("IDENTITY_NOT_FOUND", () => get<GovIdentityInfo>(`/gov/identities/${hex}`));
    },
    validators: () => get<GovValidatorsInfo>("/gov/validators"),
    nodes: async () => [...(await get<GovNodesJson>("/gov/nodes")).nodes],
    params: () => get<GovParamsInfo>("/gov/params"),
    collections: async () => [...(await get<CollectionsJson>("/gov/collections")).collections],
    propose: async (signer, action, args, o) => sendGov(signer, governance.propose(action, args), o),
    approve: async (signer, id, o) => sendGov(signer, governance.approve(id), o),
    rotate: async (signer, newPublicKey, o) => sendGov(signer, governance.rotate(newPublicKey), o),
    revoke: async (signer, publicKey, o) => sendGov(signer, governance.revoke(publicKey), o),
  };
}
