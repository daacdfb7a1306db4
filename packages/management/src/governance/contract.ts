import { argCount, type CallContext, type Contract, ContractError, type ContractStorage } from "@cairn/contracts";
import { equalBytes, toHex } from "@cairn/crypto";
import type { Value } from "@cairn/messaging";
import { type Action, applyAction, parseAction, readOrgs } from "./actions.ts";
import {
  approvalsNeeded,
  decodeIdentity,
  decodeParams,
  decodeProposal,
  encodeIdentity,
  encodeProposal,
  GOV_CONTRACT,
  type GovParams,
  type Identity,
  identityKey,
  NEXT_PROPOSAL_KEY,
  PARAMS_KEY,
  type Proposal,
  proposalKey,
  readU64be,
} from "./layout.ts";

// `gov`: the governance contract. Organisation admins propose changes to membership, roles,
// validators and the node registry; a change takes effect in the transaction that brings its
// approvals above the threshold. Members rotate and revoke their own keys without a vote.

const fail = (code: string, message: string): never => {
  throw new ContractError(code, message);
};

async function params(storage: ContractStorage): Promise<GovParams> {
  const b = await storage.get(PARAMS_KEY);
  return b === undefined
    ? fail("NOT_PERMISSIONED", "this chain has no governance (its genesis declares no organisations)")
    : decodeParams(b);
}

/** The sender's identity, active and in an existing organisation. */
async function member(ctx: CallContext, key: Uint8Array = ctx.sender): Promise<Identity> {
  const b = await ctx.storage.get(identityKey(key));
  if (b === undefined) return fail("UNKNOWN_IDENTITY", `key ${toHex(key)} is not a member of any organisation`);
  const id = decodeIdentity(key, b);
  if (!id.active) fail("IDENTITY_REVOKED", `key ${toHex(key)} has been revoked`);
  if (!(await readOrgs(ctx.storage)).includes(id.org)) fail("IDENTITY_REVOKED", `organisation ${id.org} was removed`);
  return id;
}

async function admin(ctx: CallContext): Promise<Identity> {
  const id = await member(ctx);
  if (!id.roles.includes("admin")) fail("ROLE_REQUIRED", "only an organisation admin may propose or approve");
  return id;
}

/** Executes the proposal when enough organisations approved it; returns the record to store. */
async function maybeExecute(ctx: CallContext, p: Proposal, action: Action, gov: GovParams): Promise<Proposal> {
  const orgs = await readOrgs(ctx.storage);
  const approving = p.approvals.filter((o) => orgs.includes(o)).length;
  if (approving < approvalsNeeded(orgs.length, gov.thresholdPercent)) return p;
  await applyAction({ storage: ctx.storage, height: ctx.height, params: gov }, action);
  ctx.emit("executed", [p.id, p.action]);
  return { ...p, status: "executed", executedAt: ctx.height };
}

function idArg(args: readonly Value[]): number {
  argCount(args, 1);
  const id = args[0];
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1)
    fail("BAD_ARGS", "argument 0 (id) must be a proposal id");
  return id as number;
}

function keyArg(args: readonly Value[], what: string): Uint8Array {
  argCount(args, 1);
  const k = args[0];
  if (!(k instanceof Uint8Array) || k.length !== 32)
    fail("BAD_ARGS", `argument 0 (${what}) must be a 32-byte public key`);
  return k as Uint8Array;
}

export const governanceContract: Contract = {
  name: GOV_CONTRACT,
  methods: {
    /** propose(action, args): opens a proposal; the proposer's organisation approves it at once. */
    propose: {
      gas: 200,
      check(args) {
        argCount(args, 2);
        parseAction(args[0] as Value, args[1] as Value);
      },
      async execute(ctx, args) {
        const gov = await params(ctx.storage);
        const action = parseAction(args[0] as Value, args[1] as Value);
        const me = await admin(ctx);
        const next = await ctx.storage.get(NEXT_PROPOSAL_KEY);
        const id = next === undefined ? 1 : readU64be(next);
        const idBytes = new Uint8Array(8);
        new DataView(idBytes.buffer).setBigUint64(0, BigInt(id + 1));
        ctx.storage.set(NEXT_PROPOSAL_KEY, idBytes);
        const proposal: Proposal = {
          id,
          action: action.type,
          args: args[1] as Value[],
          proposer: ctx.sender,
          createdAt: ctx.height,
          expiresAt: ctx.height + gov.proposalTtl,
          approvals: [me.org],
          status: "open",
          executedAt: 0,
        };
        ctx.emit("proposed", [id, action.type, me.org]);
        ctx.storage.set(proposalKey(id), encodeProposal(await maybeExecute(ctx, proposal, action, gov)));
      },
    },
    /** approve(id): the sender's organisation approves an open proposal. */
    approve: {
      gas: 200,
      check: (args) => void idArg(args),
      async execute(ctx, args) {
        const gov = await params(ctx.storage);
        const id = idArg(args);
        const me = await admin(ctx);
        const b = await ctx.storage.get(proposalKey(id));
        if (b === undefined) return fail("NO_SUCH_PROPOSAL", `no proposal ${id}`);
        const p = decodeProposal(b);
        if (p.status !== "open")
          fail("PROPOSAL_CLOSED", `proposal ${id} was already executed at height ${p.executedAt}`);
        if (ctx.height > p.expiresAt) fail("PROPOSAL_EXPIRED", `proposal ${id} expired at height ${p.expiresAt}`);
        if (p.approvals.includes(me.org))
          fail("ALREADY_APPROVED", `organisation ${me.org} already approved proposal ${id}`);
        const approved: Proposal = { ...p, approvals: [...p.approvals, me.org] };
        ctx.emit("approved", [id, me.org]);
        const action = parseAction(p.action, p.args as Value[]);
        ctx.storage.set(proposalKey(id), encodeProposal(await maybeExecute(ctx, approved, action, gov)));
      },
    },
    /** rotate(newKey): the sender's organisation and roles move to a new key; the old one is revoked. */
    rotate: {
      gas: 100,
      check: (args) => void keyArg(args, "newKey"),
      async execute(ctx, args) {
        await params(ctx.storage);
        const newKey = keyArg(args, "newKey");
        const me = await member(ctx);
        if (equalBytes(newKey, ctx.sender)) fail("BAD_ARGS", "the new key is the current key");
        if ((await ctx.storage.get(identityKey(newKey))) !== undefined) {
          fail("MEMBER_EXISTS", `key ${toHex(newKey)} is already on record (keys are never reused)`);
        }
        ctx.storage.set(identityKey(newKey), encodeIdentity({ ...me, publicKey: newKey }));
        ctx.storage.set(identityKey(ctx.sender), encodeIdentity({ ...me, active: false }));
        ctx.emit("rotated", [ctx.sender, newKey]);
      },
    },
    /** revoke(key): a member revokes its own key, or an admin a key of its own organisation (no vote). */
    revoke: {
      gas: 100,
      check: (args) => void keyArg(args, "publicKey"),
      async execute(ctx, args) {
        await params(ctx.storage);
        const target = keyArg(args, "publicKey");
        const me = await member(ctx);
        const b = await ctx.storage.get(identityKey(target));
        if (b === undefined) return fail("NO_SUCH_MEMBER", `key ${toHex(target)} is not on record`);
        const id = decodeIdentity(target, b);
        if (!id.active) fail("NO_SUCH_MEMBER", `key ${toHex(target)} is already revoked`);
        const self = equalBytes(target, ctx.sender);
        if (!self && !(me.roles.includes("admin") && me.org === id.org)) {
          fail("ROLE_REQUIRED", "a key may be revoked by itself or by an admin of its own organisation");
        }
        ctx.storage.set(identityKey(target), encodeIdentity({ ...id, active: false }));
        ctx.emit("revoked", [target]);
      },
    },
  },
};
