// Governance reads (docs/governance.md): proposals, organisations and identities, the validator
// schedule, the node registry and the parameters. The backend gives plain views; this file checks
// the request and renders them (keys as lower-case hex). A chain without governance answers empty lists.
import { fromHex, toHex } from "@cairn/crypto";
import type {
  CollectionsJson,
  GovIdentityJson,
  GovNodesJson,
  GovParamsJson,
  GovValidatorsJson,
  JsonValue,
  OrganizationsJson,
  ProposalJson,
  ProposalListJson,
  Validator,
  ValidatorJson,
  Value,
} from "@cairn/messaging";
import type {
  GovIdentityView,
  GovParamsView,
  ProposalStatusView,
  ProposalView,
  ValidatorScheduleView,
} from "../backend.ts";
import { ApiError } from "../errors.ts";
import { type RouteContext, send } from "../http.ts";

/** Proposals GET /gov/proposals lists without `limit`, and the most it lists with one. */
export const DEFAULT_PROPOSAL_LIMIT = 100;
export const MAX_PROPOSAL_LIMIT = 1000;

const STATUSES: readonly (ProposalStatusView | "all")[] = ["open", "executed", "expired", "all"];
const KEY_HEX = /^[0-9a-fA-F]{64}$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A governance argument for reading: binary (a public key) as hex without a prefix. */
export function govValueToJson(v: Value): JsonValue {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === "bigint") return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(govValueToJson);
  return v as JsonValue;
}

export function proposalToJson(p: ProposalView): ProposalJson {
  return {
    id: p.id,
    action: p.action,
    args: p.args.map(govValueToJson),
    argNames: [...(p.argNames ?? [])],
    proposer: toHex(p.proposer),
    ...(p.proposerOrg === undefined ? {} : { proposerOrg: p.proposerOrg }),
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
    ...(p.executedAt === undefined ? {} : { executedAt: p.executedAt }),
    approvals: [...p.approvals],
    needed: p.needed,
    status: p.status,
  };
}

export function govIdentityToJson(i: GovIdentityView): GovIdentityJson {
  return { publicKey: toHex(i.publicKey), org: i.org, roles: [...i.roles], active: i.active };
}

function validatorToJson(v: Validator): ValidatorJson {
  return { publicKey: toHex(v.publicKey), power: v.power, name: v.name };
}

export function govValidatorsToJson(v: ValidatorScheduleView): GovValidatorsJson {
  return {
    height: v.height,
    validators: v.validators.map(validatorToJson),
    schedule: v.schedule.map((e) => ({ from: e.from, validators: e.validators.map(validatorToJson) })),
  };
}

export function govParamsToJson(p: GovParamsView | undefined): GovParamsJson {
  if (p === undefined) return { permissioned: false };
  return {
    permissioned: true,
    thresholdPercent: p.thresholdPercent,
    proposalTtl: p.proposalTtl,
    validatorDelay: p.validatorDelay,
    organizations: p.organizations,
    needed: p.needed,
  };
}

function readStatus(v: unknown): ProposalStatusView | undefined {
  if (v === undefined || v === "all") return undefined;
  if (typeof v !== "string" || !STATUSES.includes(v as ProposalStatusView)) {
    throw new ApiError("BAD_REQUEST", `status must be one of ${STATUSES.join(", ")}`);
  }
  return v as ProposalStatusView;
}

function readLimit(v: unknown): number {
  if (v === undefined) return DEFAULT_PROPOSAL_LIMIT;
  if (typeof v !== "string" || !/^\d{1,7}$/.test(v) || Number(v) < 1 || Number(v) > MAX_PROPOSAL_LIMIT) {
    throw new ApiError("BAD_REQUEST", `limit must be a whole number from 1 to ${MAX_PROPOSAL_LIMIT}`);
  }
  return Number(v);
}

function readId(v: string): number {
  if (!/^\d{1,15}$/.test(v) || Number(v) < 1) throw new ApiError("BAD_REQUEST", "a proposal id is a positive integer");
  return Number(v);
}

/** The GET /gov/* routes. Their read level is in access.ts (READ_ACCESS_PREFIXES: member). */
export function registerGovRoutes(ctx: RouteContext): void {
  const { app, backend } = ctx;
  app.get("/gov/proposals", async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const status = readStatus(q.status);
    const limit = readLimit(q.limit);
    const height = backend.status().height;
    const list = (await backend.govProposals?.({ ...(status === undefined ? {} : { status }), limit })) ?? [];
    const body: ProposalListJson = { height, proposals: list.slice(0, limit).map(proposalToJson) };
    return send(req, reply, 200, body);
  });

  app.get("/gov/proposals/:id", async (req, reply) => {
    const id = readId((req.params as { id: string }).id);
    const p = await backend.govProposal?.(id);
    if (p === undefined) throw new ApiError("PROPOSAL_NOT_FOUND", `no proposal ${id}`);
    return send(req, reply, 200, proposalToJson(p));
  });

  app.get("/gov/organizations", async (req, reply) => {
    const orgs = backend.govOrganizations?.() ?? [];
    const body: OrganizationsJson = {
      organizations: orgs.map((o) => ({ name: o.name, identities: o.identities.map(govIdentityToJson) })),
    };
    return send(req, reply, 200, body);
  });

  app.get("/gov/identities/:publicKey", async (req, reply) => {
    const { publicKey } = req.params as { publicKey: string };
    if (!KEY_HEX.test(publicKey)) throw new ApiError("BAD_HEX", "a public key is 64 hex digits");
    const key = fromHex(publicKey.toLowerCase());
    const id = backend.govIdentity?.(key);
    if (id === undefined) {
      throw new ApiError("IDENTITY_NOT_FOUND", `key ${publicKey.toLowerCase()} is not an identity of this chain`);
    }
    return send(req, reply, 200, govIdentityToJson(id));
  });

  app.get("/gov/validators", async (req, reply) => {
    let view = backend.govValidators?.();
    if (view === undefined) {
      // A backend without governance: the set GET /status reports, with no schedule on record.
      const s = backend.status();
      view = { height: s.height + 1, validators: s.validators, schedule: [] };
    }
    return send(req, reply, 200, govValidatorsToJson(view));
  });

  app.get("/gov/nodes", async (req, reply) => {
    const body: GovNodesJson = {
      nodes: (backend.govNodes?.() ?? []).map((n) => ({ peerId: n.peerId, name: n.name, org: n.org })),
    };
    return send(req, reply, 200, body);
  });

  // Private data collections (docs/privacy.md).
  app.get("/gov/collections", async (req, reply) => {
    const collections = (backend.govCollections?.() ?? []).map((c) => ({ ...c, members: [...c.members] }));
    return send(req, reply, 200, { collections } satisfies CollectionsJson);
  });
  app.get("/gov/params", async (req, reply) => send(req, reply, 200, govParamsToJson(backend.govParams?.())));
}
