import { toHex } from "@cairn/crypto";
import type { Validator } from "@cairn/messaging";
import { type Role, rolesFor } from "../privilege/roles.ts";
import {
  type Collection,
  decodeCollection,
  decodeIdentity,
  decodeNames,
  decodeNode,
  decodeParams,
  decodeValidators,
  type GovParams,
  GovPrefix,
  type Identity,
  keySuffix,
  type NodeRecord,
  ORGS_KEY,
  PARAMS_KEY,
  readU64be,
  textOf,
} from "./layout.ts";

/** Reads the committed `gov` namespace: one key, or every entry under a prefix in key order. */
export interface GovStateReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  entries(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** Why a sender may not send a transaction (a stable code and a message that says what to do). */
export interface Refusal {
  readonly code: "UNKNOWN_IDENTITY" | "IDENTITY_REVOKED" | "ROLE_REQUIRED";
  readonly message: string;
}

/**
 * The committed governance state as the node uses it on every transaction: identities and roles,
 * organisations, the node registry and the validator schedule. Rebuilt from the state after each
 * block that changed it, so checks made against it are the same on every node for a given parent.
 */
export class ChainRegistry {
  /** Whether the chain declares organisations: every sender must then be an active member. */
  readonly permissioned: boolean;
  readonly params: GovParams | undefined;
  readonly organizations: readonly string[];
  readonly nodes: readonly NodeRecord[];
  /** Private data collections, by name order. */
  readonly collections: readonly Collection[];
  private readonly identities: Map<string, Identity>;
  /** [fromHeight, set], ascending. */
  private readonly schedule: readonly { readonly from: number; readonly validators: readonly Validator[] }[];

  constructor(parts: {
    params: GovParams | undefined;
    organizations: readonly string[];
    identities: readonly Identity[];
    nodes: readonly NodeRecord[];
    schedule: readonly { from: number; validators: readonly Validator[] }[];
    collections?: readonly Collection[];
  }) {
    this.params = parts.params;
    this.permissioned = parts.params !== undefined;
    this.organizations = parts.organizations;
    this.nodes = parts.nodes;
    this.identities = new Map(parts.identities.map((i) => [toHex(i.publicKey), i]));
    this.schedule = parts.schedule;
    this.collections = parts.collections ?? [];
  }

  collection(name: string): Collection | undefined {
    return this.collections.find((c) => c.name === name);
  }

  /** The organisation of a registered node, by its libp2p peer id. */
  orgOfNode(peerId: string): string | undefined {
    return this.nodes.find((n) => n.peerId === peerId)?.org;
  }

  /** Whether `publicKey` is an active identity of one of the collection's member organisations. */
  isCollectionMember(collection: Collection, publicKey: Uint8Array): boolean {
    const id = this.identity(publicKey);
    return id?.active === true && collection.members.includes(id.org);
  }

  /** The validator set that decides `height`. */
  validatorsAt(height: number): readonly Validator[] {
    let set = this.schedule[0]?.validators ?? [];
    for (const e of this.schedule) {
      if (e.from > height) break;
      set = e.validators;
    }
    return set;
  }

  /** Every change of the validator set on record: the set from each height on. */
  validatorSchedule(): readonly { readonly from: number; readonly validators: readonly Validator[] }[] {
    return this.schedule;
  }

  /** The identity of a key, with `active` false when it was revoked or its organisation removed. */
  identity(publicKey: Uint8Array): Identity | undefined {
    const id = this.identities.get(toHex(publicKey));
    if (id === undefined) return undefined;
    return id.active && !this.organizations.includes(id.org) ? { ...id, active: false } : id;
  }

  identityList(): Identity[] {
    return [...this.identities.values()].map((i) => this.identity(i.publicKey) as Identity);
  }

  hasRole(publicKey: Uint8Array, role: Role): boolean {
    const id = this.identity(publicKey);
    return id?.active === true && id.roles.includes(role);
  }

  /** Null when `sender` may call `contract.method`; otherwise why not. Open chains allow everything. */
  authorize(sender: Uint8Array, contract: string, method: string): Refusal | null {
    if (!this.permissioned) return null;
    const id = this.identity(sender);
    if (id === undefined) {
      return {
        code: "UNKNOWN_IDENTITY",
        message: `key ${toHex(sender)} is not a member of any organisation of this chain`,
      };
    }
    if (!id.active) return { code: "IDENTITY_REVOKED", message: `key ${toHex(sender)} has been revoked` };
    const roles = rolesFor(contract, method);
    if (roles === "member" || roles.some((r) => id.roles.includes(r))) return null;
    return {
      code: "ROLE_REQUIRED",
      message: `${contract}.${method} needs the role ${roles.join(" or ")}; key ${toHex(sender)} has ${id.roles.join(", ")}`,
    };
  }
}

/** Reads the registry from committed state. */
export async function loadRegistry(state: GovStateReader): Promise<ChainRegistry> {
  const paramsBytes = await state.get(PARAMS_KEY);
  const orgsBytes = await state.get(ORGS_KEY);
  const identities: Identity[] = [];
  for await (const [k, v] of state.entries(GovPrefix.identity)) {
    identities.push(decodeIdentity(keySuffix(k, GovPrefix.identity).slice(), v));
  }
  const nodes: NodeRecord[] = [];
  for await (const [k, v] of state.entries(GovPrefix.node))
    nodes.push(decodeNode(textOf(keySuffix(k, GovPrefix.node)), v));
  const schedule: { from: number; validators: Validator[] }[] = [];
  for await (const [k, v] of state.entries(GovPrefix.validators)) {
    schedule.push({ from: readU64be(keySuffix(k, GovPrefix.validators)), validators: decodeValidators(v) });
  }
  const collections: Collection[] = [];
  for await (const [k, v] of state.entries(GovPrefix.collection))
    collections.push(decodeCollection(textOf(keySuffix(k, GovPrefix.collection)), v));
  return new ChainRegistry({
    collections,
    params: paramsBytes === undefined ? undefined : decodeParams(paramsBytes),
    organizations: orgsBytes === undefined ? [] : decodeNames(orgsBytes),
    identities,
    nodes,
    schedule,
  });
}
