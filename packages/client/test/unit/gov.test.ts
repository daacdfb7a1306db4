import { generateKeyPair, toHex } from "@cairn/crypto";
import { ContractFailure, type MemoryCallContext } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { CairnClientError, govEvents, governance, type Value } from "../../src/index.ts";
import { start } from "./helpers.ts";

// client.gov: governance reads (GET /gov/*) and the `gov` contract's transactions.

const admin = generateKeyPair();
const member = generateKeyPair();
const newcomer = generateKeyPair();

const governanceState = {
  organizations: ["orgA", "orgB"],
  proposals: [
    {
      id: 1,
      action: "add-org",
      args: ["orgC"],
      argNames: ["name"],
      proposer: admin.publicKey,
      createdAt: 0,
      expiresAt: 100,
      approvals: ["orgA"],
    },
    {
      id: 2,
      action: "add-member",
      args: [newcomer.publicKey, "orgB", ["client"]],
      argNames: ["publicKey", "org", "roles"],
      proposer: admin.publicKey,
      createdAt: 0,
      expiresAt: 100,
      approvals: ["orgA", "orgB"],
      executedAt: 0,
    },
  ],
  nodes: [{ peerId: "12D3KooWLhPFc6ub2RL7YoYB8WTNWzJJEpLXvN6gHTAhmHGKQ4Xq", name: "n0", org: "orgA" }],
};

const identities = [
  { publicKey: admin.publicKey, org: "orgA", roles: ["admin"] },
  { publicKey: member.publicKey, org: "orgB", roles: ["client"] },
];

describe("client.gov reads", () => {
  it("reads proposals, organisations, identities, validators, nodes and params", async () => {
    const { client } = await start({ identities, governance: governanceState });
    const all = await client.gov.proposals();
    expect(all.map((p) => [p.id, p.status])).toEqual([
      [2, "executed"],
      [1, "open"],
    ]);
    expect((await client.gov.proposals({ status: "open" })).map((p) => p.id)).toEqual([1]);
    expect((await client.gov.proposals({ limit: 1 })).map((p) => p.id)).toEqual([2]);
    expect(await client.gov.proposal(2)).toMatchObject({
      action: "add-member",
      args: [toHex(newcomer.publicKey), "orgB", ["client"]],
      approvals: ["orgA", "orgB"],
      needed: 2,
    });
    expect(await client.gov.proposal(9)).toBeUndefined();

    const orgs = await client.gov.organizations();
    expect(orgs.map((o) => [o.name, o.identities.map((i) => i.publicKey)])).toEqual([
      ["orgA", [toHex(admin.publicKey)]],
      ["orgB", [toHex(member.publicKey)]],
    ]);
    expect(await client.gov.identity(member.publicKey)).toEqual({
      publicKey: toHex(member.publicKey),
      org: "orgB",
      roles: ["client"],
      active: true,
    });
    expect(await client.gov.identity(toHex(admin.publicKey))).toMatchObject({ org: "orgA" });
    expect(await client.gov.identity(newcomer.publicKey)).toBeUndefined();
    await expect(client.gov.identity("abcd")).rejects.toMatchObject({ code: "BAD_LENGTH" });

    expect((await client.gov.validators()).validators).toHaveLength(1);
    expect(await client.gov.nodes()).toEqual(governanceState.nodes);
    expect(await client.gov.params()).toMatchObject({ permissioned: true, organizations: 2, needed: 2 });
  });

  it("answers empty lists on a chain without governance", async () => {
    const { client } = await start();
    expect(await client.gov.proposals()).toEqual([]);
    expect(await client.gov.organizations()).toEqual([]);
    expect(await client.gov.params()).toEqual({ permissioned: false });
  });
});

describe("governance call builders", () => {
  it("builds the gov contract's calls, taking keys as bytes or hex", () => {
    const pk = newcomer.publicKey;
    expect(governance.propose("add-member", [toHex(pk), "orgB", ["client"]])).toEqual({
      contract: "gov",
      method: "propose",
      args: ["add-member", [pk, "orgB", ["client"]]],
    });
    expect(governance.propose("add-validator", [pk, 3, "v1"]).args).toEqual(["add-validator", [pk, 3, "v1"]]);
    expect(governance.approve(4)).toEqual({ contract: "gov", method: "approve", args: [4] });
    expect(governance.rotate(toHex(pk))).toEqual({ contract: "gov", method: "rotate", args: [pk] });
    expect(governance.revoke(pk)).toEqual({ contract: "gov", method: "revoke", args: [pk] });
  });

  it("refuses unknown actions, wrong argument counts, bad keys and ids", () => {
    expect(() => governance.propose("frob", [])).toThrow(expect.objectContaining({ code: "UNKNOWN_ACTION" }));
    expect(() => governance.propose("add-member", ["x"])).toThrow(
      expect.objectContaining({ code: "BAD_ARGS", message: "add-member takes 3 argument(s): publicKey, org, roles" }),
    );
    expect(() => governance.propose("revoke-member", ["zz"])).toThrow(CairnClientError);
    expect(() => governance.approve(0)).toThrow(expect.objectContaining({ code: "BAD_ARGS" }));
    expect(() => governance.rotate(new Uint8Array(5))).toThrow(expect.objectContaining({ code: "BAD_LENGTH" }));
  });
});

describe("client.gov transactions", () => {
  /** A stand-in `gov` contract: records calls and emits the events the real one does. */
  async function withGov(fail?: string) {
    const h = await start({ autoBlockMs: 5 });
    const calls: { method: string; args: readonly Value[]; caller: string }[] = [];
    h.backend.registerContract({
      name: "gov",
      methods: ["propose", "approve", "rotate", "revoke"],
      handler: (c: MemoryCallContext) => {
        calls.push({ method: c.method, args: c.args, caller: toHex(c.caller) });
        if (fail !== undefined) throw new ContractFailure(fail, `proposal 1 expired at height 3`);
        if (c.method === "propose") c.emit("proposed", [7, c.args[0] as string, "orgA"]);
        if (c.method === "approve") {
          c.emit("approved", [c.args[0] as number, "orgB"]);
          c.emit("executed", [c.args[0] as number, "add-org"]);
        }
        return undefined;
      },
    });
    return { ...h, calls, signer: h.client.signer(admin) };
  }

  it("proposes and approves, waiting for the commit, with the proposal id and whether it executed", async () => {
    const { client, calls, signer } = await withGov();
    const p = await client.gov.propose(signer, "add-member", [toHex(newcomer.publicKey), "orgB", ["client"]]);
    expect(p).toMatchObject({ ok: true, status: "committed", proposalId: 7, executed: false });
    expect(p.receipt?.code).toBe("OK");
    expect(p.height).toBeGreaterThan(0);
    expect(calls[0]).toEqual({
      method: "propose",
      args: ["add-member", [newcomer.publicKey, "orgB", ["client"]]],
      caller: toHex(admin.publicKey),
    });
    const a = await client.gov.approve(signer, 7);
    expect(a).toMatchObject({ ok: true, executed: true });
    expect(a.proposalId).toBeUndefined();
    expect(calls[1]?.args).toEqual([7]);
  });

  it("rotates and revokes keys", async () => {
    const { client, calls, signer } = await withGov();
    expect((await client.gov.rotate(signer, newcomer.publicKey)).ok).toBe(true);
    expect((await client.gov.revoke(signer, toHex(member.publicKey))).ok).toBe(true);
    expect(calls.map((c) => [c.method, c.args])).toEqual([
      ["rotate", [newcomer.publicKey]],
      ["revoke", [member.publicKey]],
    ]);
  });

  it("returns a refused transaction's receipt code rather than throwing", async () => {
    const { client, signer } = await withGov("PROPOSAL_EXPIRED");
    const r = await client.gov.approve(signer, 1);
    expect(r).toMatchObject({ ok: false, status: "committed", executed: false });
    expect(r.receipt?.code).toBe("PROPOSAL_EXPIRED");
    expect(govEvents(r.receipt)).toEqual({ executed: false });
  });
});
