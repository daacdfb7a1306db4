import { generateKeyPair, toHex } from "@cairn/crypto";
import type { MemoryGovernance } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { type Json, start } from "./helpers.ts";

// GET /gov/*: governance reads over the in-memory backend.

const adminA = generateKeyPair();
const adminB = generateKeyPair();
const clientA = generateKeyPair();
const gone = generateKeyPair();
const newcomer = generateKeyPair();
const v1 = generateKeyPair();
const PEER = "12D3KooWLhPFc6ub2RL7YoYB8WTNWzJJEpLXvN6gHTAhmHGKQ4Xq";

const identities = [
  { publicKey: adminA.publicKey, org: "orgA", roles: ["admin"] },
  { publicKey: clientA.publicKey, org: "orgA", roles: ["client", "auditor"] },
  { publicKey: gone.publicKey, org: "orgA", roles: ["client"], active: false },
  { publicKey: adminB.publicKey, org: "orgB", roles: ["admin"] },
];

const governance: MemoryGovernance = {
  organizations: ["orgA", "orgB", "orgC"],
  thresholdPercent: 50,
  proposalTtl: 10,
  proposals: [
    {
      id: 1,
      action: "add-member",
      args: [newcomer.publicKey, "orgB", ["client"]],
      argNames: ["publicKey", "org", "roles"],
      proposer: adminA.publicKey,
      createdAt: 0,
      expiresAt: 10,
      approvals: ["orgA", "orgB"],
      executedAt: 0,
    },
    {
      id: 2,
      action: "add-org",
      args: ["orgD"],
      proposer: adminB.publicKey,
      createdAt: 0,
      expiresAt: 1,
      approvals: ["orgB"],
    },
    {
      id: 3,
      action: "add-validator",
      args: [v1.publicKey, 2, "v1"],
      argNames: ["publicKey", "power", "name"],
      proposer: adminA.publicKey,
      createdAt: 0,
      expiresAt: 100,
      approvals: ["orgA"],
    },
  ],
  nodes: [{ peerId: PEER, name: "node0", org: "orgA" }],
};

async function get(url: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: res.status, body: (await res.json()) as Json };
}

const permissioned = () => start({}, { identities, governance });

describe("GET /gov/* on a chain without governance", () => {
  it("answers empty lists, an unknown identity and permissioned: false", async () => {
    const h = await start();
    expect(await get(`${h.url}/gov/proposals`)).toEqual({ status: 200, body: { height: 0, proposals: [] } });
    expect(await get(`${h.url}/gov/organizations`)).toEqual({ status: 200, body: { organizations: [] } });
    expect(await get(`${h.url}/gov/nodes`)).toEqual({ status: 200, body: { nodes: [] } });
    expect(await get(`${h.url}/gov/params`)).toEqual({ status: 200, body: { permissioned: false } });
    const id = await get(`${h.url}/gov/identities/${toHex(adminA.publicKey)}`);
    expect(id.status).toBe(404);
    expect(id.body.error.code).toBe("IDENTITY_NOT_FOUND");
    const v = await get(`${h.url}/gov/validators`);
    const validator = { publicKey: toHex(h.backend.validator.publicKey), power: 1, name: "memory" };
    expect(v.body).toEqual({ height: 1, validators: [validator], schedule: [{ from: 1, validators: [validator] }] });
  });
});

describe("GET /gov/proposals", () => {
  it("lists proposals newest first with readable args, approvals, needed and status", async () => {
    const h = await permissioned();
    const { status, body } = await get(`${h.url}/gov/proposals`);
    expect(status).toBe(200);
    expect(body.height).toBe(0);
    expect(body.proposals.map((p: Json) => [p.id, p.status])).toEqual([
      [3, "open"],
      [2, "open"],
      [1, "executed"],
    ]);
    expect(body.proposals[2]).toEqual({
      id: 1,
      action: "add-member",
      args: [toHex(newcomer.publicKey), "orgB", ["client"]],
      argNames: ["publicKey", "org", "roles"],
      proposer: toHex(adminA.publicKey),
      proposerOrg: "orgA",
      createdAt: 0,
      expiresAt: 10,
      executedAt: 0,
      approvals: ["orgA", "orgB"],
      needed: 2,
      status: "executed",
    });
    expect(body.proposals[1]).toMatchObject({ argNames: [], proposerOrg: "orgB", approvals: ["orgB"], needed: 2 });
    expect(body.proposals[1].executedAt).toBeUndefined();
  });

  it("shows a proposal as expired once the next height is past its expiry, and filters by status", async () => {
    const h = await permissioned();
    await h.backend.produceBlock();
    const ids = async (q: string) =>
      ((await get(`${h.url}/gov/proposals${q}`)).body.proposals as Json[]).map((p) => p.id);
    expect(await ids("?status=expired")).toEqual([2]);
    expect(await ids("?status=open")).toEqual([3]);
    expect(await ids("?status=executed")).toEqual([1]);
    expect(await ids("?status=all")).toEqual([3, 2, 1]);
    expect(await ids("?limit=2")).toEqual([3, 2]);
    expect(await ids("?status=open&limit=1")).toEqual([3]);
    expect((await get(`${h.url}/gov/proposals/2`)).body.status).toBe("expired");
  });

  it("refuses a bad status, limit or id, and answers 404 PROPOSAL_NOT_FOUND for an unknown one", async () => {
    const h = await permissioned();
    for (const q of ["?status=done", "?limit=0", "?limit=1001", "?limit=x", "?limit=-1"]) {
      const r = await get(`${h.url}/gov/proposals${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe("BAD_REQUEST");
    }
    for (const id of ["0", "abc", "-1", "1.5"]) {
      const r = await get(`${h.url}/gov/proposals/${id}`);
      expect(r.status, id).toBe(400);
    }
    const missing = await get(`${h.url}/gov/proposals/99`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: "PROPOSAL_NOT_FOUND", message: "no proposal 99" });
    expect((await get(`${h.url}/gov/proposals/3`)).body).toMatchObject({
      id: 3,
      args: [toHex(v1.publicKey), 2, "v1"],
      status: "open",
    });
  });
});

describe("GET /gov organisations, identities, validators, nodes, params", () => {
  it("lists each organisation with its identities, revoked ones inactive", async () => {
    const h = await permissioned();
    const { body } = await get(`${h.url}/gov/organizations`);
    expect(body.organizations).toEqual([
      {
        name: "orgA",
        identities: [
          { publicKey: toHex(adminA.publicKey), org: "orgA", roles: ["admin"], active: true },
          { publicKey: toHex(clientA.publicKey), org: "orgA", roles: ["client", "auditor"], active: true },
          { publicKey: toHex(gone.publicKey), org: "orgA", roles: ["client"], active: false },
        ],
      },
      {
        name: "orgB",
        identities: [{ publicKey: toHex(adminB.publicKey), org: "orgB", roles: ["admin"], active: true }],
      },
      { name: "orgC", identities: [] },
    ]);
  });

  it("answers one identity by key (any case), 404 when unknown, 400 for a bad key", async () => {
    const h = await permissioned();
    const hex = toHex(clientA.publicKey);
    const one = await get(`${h.url}/gov/identities/${hex.toUpperCase()}`);
    expect(one).toEqual({
      status: 200,
      body: { publicKey: hex, org: "orgA", roles: ["client", "auditor"], active: true },
    });
    expect((await get(`${h.url}/gov/identities/${toHex(gone.publicKey)}`)).body.active).toBe(false);
    const unknown = await get(`${h.url}/gov/identities/${toHex(newcomer.publicKey)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("IDENTITY_NOT_FOUND");
    const bad = await get(`${h.url}/gov/identities/abcd`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("BAD_HEX");
  });

  it("gives the validators of the next height and the schedule", async () => {
    const h = await permissioned();
    const v0 = { publicKey: h.backend.validator.publicKey, power: 1, name: "memory" };
    const v1v = { publicKey: v1.publicKey, power: 2, name: "v1" };
    h.backend.setGovernance({
      ...governance,
      schedule: [
        { from: 1, validators: [v0] },
        { from: 3, validators: [v0, v1v] },
      ],
    });
    const json = (v: typeof v0) => ({ ...v, publicKey: toHex(v.publicKey) });
    const before = (await get(`${h.url}/gov/validators`)).body;
    expect(before).toEqual({
      height: 1,
      validators: [json(v0)],
      schedule: [
        { from: 1, validators: [json(v0)] },
        { from: 3, validators: [json(v0), json(v1v)] },
      ],
    });
    await h.backend.produceBlock();
    await h.backend.produceBlock();
    const after = (await get(`${h.url}/gov/validators`)).body;
    expect(after.height).toBe(3);
    expect(after.validators.map((v: Json) => v.name)).toEqual(["memory", "v1"]);
  });

  it("lists the node registry and the parameters", async () => {
    const h = await permissioned();
    expect((await get(`${h.url}/gov/nodes`)).body).toEqual({ nodes: [{ peerId: PEER, name: "node0", org: "orgA" }] });
    expect((await get(`${h.url}/gov/params`)).body).toEqual({
      permissioned: true,
      thresholdPercent: 50,
      proposalTtl: 10,
      validatorDelay: 2,
      organizations: 3,
      needed: 2,
    });
  });

  it("needs a signed read by a member on a chain whose reads are members only", async () => {
    const h = await start({}, { identities, governance, readAccess: "members" });
    for (const route of [
      "/gov/proposals",
      "/gov/organizations",
      "/gov/params",
      `/gov/identities/${toHex(adminA.publicKey)}`,
    ]) {
      const r = await get(`${h.url}${route}`);
      expect(r.status, route).toBe(401);
      expect(r.body.error.code, route).toBe("READ_SIGNATURE_REQUIRED");
    }
  });
});
