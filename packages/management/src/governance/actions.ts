import { ContractError, type ContractStorage } from "@cairn/contracts";
import { equalBytes, toHex } from "@cairn/crypto";
import type { Validator, Value } from "@cairn/messaging";
import { isRole, type Role } from "../privilege/roles.ts";
import {
  type Collection,
  collectionKey,
  decodeIdentity,
  decodeLatestValidators,
  decodeNames,
  encodeCollection,
  encodeIdentity,
  encodeLatestValidators,
  encodeNames,
  encodeNode,
  encodeValidators,
  type GovParams,
  identityKey,
  LATEST_VALIDATORS_KEY,
  nodeKey,
  ORGS_KEY,
  orgKey,
  validatorsKey,
} from "./layout.ts";

// The changes a governance proposal can make. `parseAction` is the stateless check (mempool
// admission); `applyAction` re-checks against the state at the approving height and writes.

export type Action =
  | { readonly type: "add-org"; readonly name: string }
  | { readonly type: "remove-org"; readonly name: string }
  | { readonly type: "add-member"; readonly publicKey: Uint8Array; readonly org: string; readonly roles: Role[] }
  | { readonly type: "set-roles"; readonly publicKey: Uint8Array; readonly roles: Role[] }
  | { readonly type: "revoke-member"; readonly publicKey: Uint8Array }
  | { readonly type: "add-validator"; readonly publicKey: Uint8Array; readonly power: number; readonly name: string }
  | { readonly type: "remove-validator"; readonly publicKey: Uint8Array }
  | { readonly type: "rotate-validator"; readonly publicKey: Uint8Array; readonly newKey: Uint8Array }
  | { readonly type: "add-node"; readonly peerId: string; readonly name: string; readonly org: string }
  | { readonly type: "remove-node"; readonly peerId: string }
  | ({ readonly type: "define-collection" } & Collection)
  | { readonly type: "remove-collection"; readonly name: string };

/** Each action with the meaning of its arguments, for errors, the CLI and the docs. */
export const ACTIONS: Readonly<Record<Action["type"], readonly string[]>> = {
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
};

const bad = (message: string): never => {
  throw new ContractError("BAD_ARGS", message);
};

export function checkName(v: Value, what: string): string {
  if (typeof v !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(v)) {
    bad(`${what} must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  return v as string;
}

function key(v: Value, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== 32) bad(`${what} must be a 32-byte Ed25519 public key`);
  return v as Uint8Array;
}

export function checkRoles(v: Value): Role[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 5 || !v.every(isRole)) {
    bad("roles must be a non-empty list of admin, client, deployer, auditor, validator");
  }
  const roles = v as Role[];
  if (new Set(roles).size !== roles.length) bad("roles repeat a role");
  return roles;
}

export function checkPeerId(v: Value): string {
  if (typeof v !== "string" || !/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(v)) bad("peerId must be a base58 libp2p peer id");
  return v as string;
}

function count(v: Value, what: string, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) {
    bad(`${what} must be an integer from 0 to ${max}`);
  }
  return v as number;
}

function flag(v: Value, what: string): boolean {
  if (typeof v !== "boolean") bad(`${what} must be true or false`);
  return v as boolean;
}

/** Most organisations a collection may name, and most member nodes it may require or push to. */
const MAX_COLLECTION_ORGS = 64;
const MAX_PEER_COUNT = 100;

function collection(a: Value[]): Collection {
  const name = checkName(a[0] as Value, "name");
  const members = a[1];
  if (!Array.isArray(members) || members.length === 0 || members.length > MAX_COLLECTION_ORGS) {
    bad(`members must be a list of 1 to ${MAX_COLLECTION_ORGS} organisation names`);
  }
  const orgs = (members as Value[]).map((m) => checkName(m, "members[]"));
  if (new Set(orgs).size !== orgs.length) bad("members repeat an organisation");
  const requiredPeerCount = count(a[2] as Value, "requiredPeerCount", MAX_PEER_COUNT);
  const maxPeerCount = count(a[3] as Value, "maxPeerCount", MAX_PEER_COUNT);
  if (requiredPeerCount > maxPeerCount) bad("requiredPeerCount must not exceed maxPeerCount");
  return {
    name,
    members: orgs,
    requiredPeerCount,
    maxPeerCount,
    blockToLive: count(a[4] as Value, "blockToLive", 0xffffffff),
    memberOnlyRead: flag(a[5] as Value, "memberOnlyRead"),
    memberOnlyWrite: flag(a[6] as Value, "memberOnlyWrite"),
  };
}

function power(v: Value): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > 1_000_000) {
    bad("power must be an integer from 1 to 1,000,000");
  }
  return v as number;
}

/** The action a proposal names, with its arguments checked (no state needed). */
export function parseAction(action: Value, args: Value): Action {
  if (typeof action !== "string" || !Object.hasOwn(ACTIONS, action)) {
    throw new ContractError(
      "UNKNOWN_ACTION",
      `no governance action ${String(action)}; known: ${Object.keys(ACTIONS).join(", ")}`,
    );
  }
  const type = action as Action["type"];
  const names = ACTIONS[type];
  if (!Array.isArray(args) || args.length !== names.length)
    bad(`${type} takes ${names.length} argument(s): ${names.join(", ")}`);
  const a = args as Value[];
  switch (type) {
    case "add-org":
    case "remove-org":
      return { type, name: checkName(a[0] as Value, "name") };
    case "add-member":
      return {
        type,
        publicKey: key(a[0] as Value, "publicKey"),
        org: checkName(a[1] as Value, "org"),
        roles: checkRoles(a[2] as Value),
      };
    case "set-roles":
      return { type, publicKey: key(a[0] as Value, "publicKey"), roles: checkRoles(a[1] as Value) };
    case "revoke-member":
    case "remove-validator":
      return { type, publicKey: key(a[0] as Value, "publicKey") };
    case "add-validator":
      return {
        type,
        publicKey: key(a[0] as Value, "publicKey"),
        power: power(a[1] as Value),
        name: checkName(a[2] as Value, "name"),
      };
    case "rotate-validator": {
      const publicKey = key(a[0] as Value, "publicKey");
      const newKey = key(a[1] as Value, "newKey");
      if (equalBytes(publicKey, newKey)) bad("newKey must differ from publicKey");
      return { type, publicKey, newKey };
    }
    case "add-node":
      return {
        type,
        peerId: checkPeerId(a[0] as Value),
        name: checkName(a[1] as Value, "name"),
        org: checkName(a[2] as Value, "org"),
      };
    case "remove-node":
      return { type, peerId: checkPeerId(a[0] as Value) };
    case "define-collection":
      return { type, ...collection(a) };
    case "remove-collection":
      return { type, name: checkName(a[0] as Value, "name") };
  }
}

/** What an action applies to: the storage of the `gov` namespace and where the chain is. */
export interface GovContext {
  readonly storage: ContractStorage;
  readonly height: number;
  readonly params: GovParams;
}

const fail = (code: string, message: string): never => {
  throw new ContractError(code, message);
};

export async function readOrgs(storage: ContractStorage): Promise<string[]> {
  const b = await storage.get(ORGS_KEY);
  return b === undefined ? [] : decodeNames(b);
}

async function readIdentity(storage: ContractStorage, publicKey: Uint8Array) {
  const b = await storage.get(identityKey(publicKey));
  return b === undefined ? undefined : decodeIdentity(publicKey, b);
}

async function requireOrg(storage: ContractStorage, org: string): Promise<void> {
  if (!(await readOrgs(storage)).includes(org)) fail("NO_SUCH_ORG", `no organisation named ${org}`);
}

/** Schedules `next` as the validator set from `height + validatorDelay` (consensus reconfigures there). */
async function scheduleValidators(ctx: GovContext, change: (current: Validator[]) => Validator[]): Promise<void> {
  const latest = await ctx.storage.get(LATEST_VALIDATORS_KEY);
  if (latest === undefined) return fail("NO_VALIDATORS", "the chain has no validator set on record");
  const current = decodeLatestValidators(latest);
  if (ctx.params.oneValidatorChange === true && current.from > ctx.height) {
    fail(
      "VALIDATOR_CHANGE_PENDING",
      `a Raft chain changes one validator at a time: the last change takes effect at height ${current.from}; propose this one after it`,
    );
  }
  const next = change(current.validators);
  if (next.length === 0) fail("LAST_VALIDATOR", "the chain cannot be left without validators");
  const from = ctx.height + ctx.params.validatorDelay;
  ctx.storage.set(validatorsKey(from), encodeValidators(next));
  ctx.storage.set(LATEST_VALIDATORS_KEY, encodeLatestValidators(from, next));
}

async function latestValidators(storage: ContractStorage): Promise<Validator[]> {
  const latest = await storage.get(LATEST_VALIDATORS_KEY);
  return latest === undefined ? [] : decodeLatestValidators(latest).validators;
}

/** Applies an approved action; a change that no longer makes sense fails with a stable code. */
export async function applyAction(ctx: GovContext, a: Action): Promise<void> {
  const { storage } = ctx;
  switch (a.type) {
    case "add-org": {
      const orgs = await readOrgs(storage);
      if (orgs.includes(a.name)) fail("ORG_EXISTS", `organisation ${a.name} already exists`);
      storage.set(ORGS_KEY, encodeNames([...orgs, a.name]));
      storage.set(orgKey(a.name), encodeNames([a.name]));
      return;
    }
    case "remove-org": {
      const orgs = await readOrgs(storage);
      if (!orgs.includes(a.name)) fail("NO_SUCH_ORG", `no organisation named ${a.name}`);
      if (orgs.length === 1) fail("LAST_ORG", "the chain cannot be left without organisations");
      // Its identities stay on record but are inactive: an identity needs an existing organisation.
      storage.set(ORGS_KEY, encodeNames(orgs.filter((o) => o !== a.name)));
      storage.delete(orgKey(a.name));
      return;
    }
    case "add-member": {
      await requireOrg(storage, a.org);
      if ((await readIdentity(storage, a.publicKey)) !== undefined) {
        fail("MEMBER_EXISTS", `key ${toHex(a.publicKey)} is already on record (keys are never reused)`);
      }
      storage.set(
        identityKey(a.publicKey),
        encodeIdentity({ publicKey: a.publicKey, org: a.org, roles: a.roles, active: true }),
      );
      return;
    }
    case "set-roles": {
      const id = await readIdentity(storage, a.publicKey);
      if (id === undefined || !id.active) fail("NO_SUCH_MEMBER", `no active member with key ${toHex(a.publicKey)}`);
      storage.set(identityKey(a.publicKey), encodeIdentity({ ...(id as NonNullable<typeof id>), roles: a.roles }));
      return;
    }
    case "revoke-member": {
      const id = await readIdentity(storage, a.publicKey);
      if (id === undefined || !id.active) fail("NO_SUCH_MEMBER", `no active member with key ${toHex(a.publicKey)}`);
      storage.set(identityKey(a.publicKey), encodeIdentity({ ...(id as NonNullable<typeof id>), active: false }));
      return;
    }
    case "add-validator": {
      const current = await latestValidators(storage);
      if (current.some((v) => equalBytes(v.publicKey, a.publicKey)))
        fail("VALIDATOR_EXISTS", "that key is already a validator");
      if (current.some((v) => v.name === a.name)) fail("VALIDATOR_EXISTS", `a validator is already named ${a.name}`);
      return scheduleValidators(ctx, (vs) => [...vs, { publicKey: a.publicKey, power: a.power, name: a.name }]);
    }
    case "remove-validator": {
      const current = await latestValidators(storage);
      if (!current.some((v) => equalBytes(v.publicKey, a.publicKey)))
        fail("NO_SUCH_VALIDATOR", "that key is not a validator");
      return scheduleValidators(ctx, (vs) => vs.filter((v) => !equalBytes(v.publicKey, a.publicKey)));
    }
    case "rotate-validator": {
      if (ctx.params.oneValidatorChange === true) {
        fail(
          "ONE_VALIDATOR_CHANGE",
          "a Raft chain changes one validator at a time: add the new key, then remove the old one (two proposals)",
        );
      }
      const current = await latestValidators(storage);
      if (!current.some((v) => equalBytes(v.publicKey, a.publicKey)))
        fail("NO_SUCH_VALIDATOR", "that key is not a validator");
      if (current.some((v) => equalBytes(v.publicKey, a.newKey)))
        fail("VALIDATOR_EXISTS", "the new key is already a validator");
      return scheduleValidators(ctx, (vs) =>
        vs.map((v) => (equalBytes(v.publicKey, a.publicKey) ? { ...v, publicKey: a.newKey } : v)),
      );
    }
    case "add-node": {
      await requireOrg(storage, a.org);
      if ((await storage.get(nodeKey(a.peerId))) !== undefined)
        fail("NODE_EXISTS", `node ${a.peerId} is already registered`);
      storage.set(nodeKey(a.peerId), encodeNode({ peerId: a.peerId, name: a.name, org: a.org }));
      return;
    }
    case "remove-node": {
      if ((await storage.get(nodeKey(a.peerId))) === undefined)
        fail("NO_SUCH_NODE", `node ${a.peerId} is not registered`);
      storage.delete(nodeKey(a.peerId));
      return;
    }
    case "define-collection": {
      // A new definition replaces the old one: members added receive new writes from then on,
      // members removed stop receiving them and keep what they already hold (as in Fabric).
      for (const org of a.members) await requireOrg(storage, org);
      const { type: _, ...definition } = a;
      storage.set(collectionKey(a.name), encodeCollection(definition));
      return;
    }
    case "remove-collection": {
      if ((await storage.get(collectionKey(a.name))) === undefined)
        fail("NO_SUCH_COLLECTION", `no collection named ${a.name}`);
      storage.delete(collectionKey(a.name));
      return;
    }
  }
}
