// `cairn gov ...` against a real solo node whose genesis declares three organisations: proposals
// that pass and expire, the reads, key rotation and revocation, and the usage errors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, GOV_ACTIONS, kv } from "@cairn/client";
import { generateKeyPair, type KeyPair, toHex } from "@cairn/crypto";
import { ACTIONS, createLoggers } from "@cairn/management";
import { type CairnNode, initHome, startNode, writeKeyFile } from "@cairn/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProposal } from "../../src/gov.ts";
import { runCairnInProcess } from "./cli-run.ts";

/** Runs `cairn ...` in this process, as bin/cairn.ts does, with its output captured. */
const cairn = (...argv: string[]) => runCairnInProcess(argv);

const TTL = 3;
let dir: string;
let node: CairnNode;
let adminA: KeyPair;
const adminB = generateKeyPair();
const adminC = generateKeyPair();
const clientA = generateKeyPair();
const files: Record<string, string> = {};

/** `cairn gov ...` against the node, signed with the key file `as`. */
const gov = (as: string, ...args: string[]) =>
  cairn("gov", ...args, "--url", node.apiUrl, "--key", files[as] as string);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-gov-cli-"));
  const home = join(dir, "home");
  const init = await initHome({ home, apiPort: 0 });
  adminA = init.admin;
  // The genesis `cairn init` wrote, made permissioned: three organisations, one admin each.
  const gPath = join(home, "genesis.json");
  const g = JSON.parse(readFileSync(gPath, "utf8"));
  const member = (k: KeyPair, roles: string[]) => ({ publicKey: toHex(k.publicKey), roles });
  g.organizations = [
    { name: "orgA", members: [member(adminA, ["admin"]), member(clientA, ["client"])] },
    { name: "orgB", members: [member(adminB, ["admin"])] },
    { name: "orgC", members: [member(adminC, ["admin"])] },
  ];
  g.params = { ...g.params, proposalTtl: TTL, govThresholdPercent: 50 };
  writeFileSync(gPath, JSON.stringify(g));
  for (const [name, k] of Object.entries({ adminA, adminB, adminC, clientA })) {
    files[name] = join(dir, `${name}.json`);
    await writeKeyFile(files[name] as string, k);
  }
  node = await startNode({
    home,
    config: { verifyWorkers: 1 },
    loggers: createLoggers({ level: "silent", pretty: false }),
  });
});

afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Commits `n` kv puts from orgA's client key, one block each (the solo node idles otherwise). */
async function advance(n: number): Promise<void> {
  const signer = createClient({ url: node.apiUrl }).signer(clientA);
  for (let i = 0; i < n; i++) {
    const r = await signer.send(kv.put(`filler-${Date.now()}-${i}`, "x"), { wait: "commit" });
    expect(r.receipt?.code).toBe("OK");
  }
}

describe("cairn gov", () => {
  it("passes a proposal once a second organisation approves it, and lists it as executed", async () => {
    const newcomer = generateKeyPair();
    const pk = toHex(newcomer.publicKey);
    const proposed = await gov("adminA", "propose", "add-member", pk, "orgB", "client,auditor");
    expect(proposed.err).toMatch(/^proposal 1: add-member proposed at height \d+\n$/);
    expect(proposed.code).toBe(0);
    expect(JSON.parse(proposed.out).receipt.code).toBe("OK");

    const open = await gov("adminA", "list", "--status", "open");
    expect(open.code).toBe(0);
    const lines = open.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +ACTION +STATUS +APPROVALS +BY +CREATED +EXPIRES +ARGS$/);
    expect(lines[1]).toMatch(
      /^1 +add-member +open +1\/2 +orgA +\d+ +\d+ +[0-9a-f]{6}…[0-9a-f]{6} orgB client,auditor$/,
    );

    const approved = await gov("adminB", "approve", "1");
    expect(approved.code).toBe(0);
    expect(approved.err).toMatch(/^proposal 1 approved at height \d+; executed \(took effect\)\n$/);

    const all = await gov("adminC", "list");
    expect(all.out).toMatch(/^1 +add-member +executed@\d+ +2\/2 +orgA /m);
    const json = JSON.parse((await gov("adminC", "list", "--json")).out);
    expect(json[0]).toMatchObject({
      id: 1,
      status: "executed",
      approvals: ["orgA", "orgB"],
      args: [pk, "orgB", ["client", "auditor"]],
    });

    const show = await gov("adminA", "show", "1");
    expect(show.out).toContain("proposal    1  add-member  (executed)");
    expect(show.out).toContain(`  publicKey  ${pk}`);
    expect(show.out).toContain("approvals   2/2: orgA, orgB");

    const members = await gov("adminA", "members");
    expect(members.out).toMatch(new RegExp(`^orgB +${pk} +client,auditor +yes$`, "m"));
    expect(members.out).toMatch(new RegExp(`^orgA +${toHex(adminA.publicKey)} +admin +yes$`, "m"));
    expect(node.ledger.registry.identity(newcomer.publicKey)).toMatchObject({ org: "orgB", active: true });
  });

  it("lets a proposal expire after proposalTtl blocks; approving it then fails with PROPOSAL_EXPIRED", async () => {
    const proposed = await gov("adminA", "propose", "add-org", "orgD");
    expect(proposed.code).toBe(0);
    const id = Number(/^proposal (\d+):/.exec(proposed.err)?.[1]);
    expect(id).toBeGreaterThan(0);
    await advance(TTL);
    const expired = JSON.parse((await gov("adminA", "list", "--status", "expired", "--json")).out);
    expect(expired.map((p: { id: number }) => p.id)).toContain(id);

    const late = await gov("adminB", "approve", String(id));
    expect(late.code).toBe(1);
    expect(late.err).toContain("PROPOSAL_EXPIRED");
    expect(late.err.trimEnd().split("\n")).toHaveLength(1);
    expect(late.err).not.toMatch(/\n\s+at /);
    expect(node.ledger.registry.organizations).toEqual(["orgA", "orgB", "orgC"]);
  });

  it("shows validators and nodes", async () => {
    const v = await gov("adminA", "validators");
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^validators deciding height \d+:$/m);
    expect(v.out).toMatch(new RegExp(`^ {2}node0 +${node.nodeId} +1$`, "m"));
    expect(v.out).toContain("from height 1: node0(1)");
    const n = await gov("adminA", "nodes");
    expect(n.code).toBe(0);
    expect(n.out).toContain("no registered nodes");
  });

  it("rotates a member's key and lets its admin revoke the new one; another org's admin may not", async () => {
    const next = generateKeyPair();
    files.next = join(dir, "next.json");
    await writeKeyFile(files.next, next);
    const rotated = await gov("clientA", "rotate", "--new-key", files.next);
    expect(rotated.code).toBe(0);
    expect(rotated.err).toContain(`key rotated to ${toHex(next.publicKey)}`);
    const members = (await gov("adminA", "members")).out;
    expect(members).toMatch(new RegExp(`^orgA +${toHex(clientA.publicKey)} +client +revoked$`, "m"));
    expect(members).toMatch(new RegExp(`^orgA +${toHex(next.publicKey)} +client +yes$`, "m"));

    const foreign = await gov("adminB", "revoke", toHex(next.publicKey));
    expect(foreign.code).toBe(1);
    expect(foreign.err).toContain("ROLE_REQUIRED");
    const revoked = await gov("adminA", "revoke", toHex(next.publicKey));
    expect(revoked.code).toBe(0);
    expect(node.ledger.registry.identity(next.publicKey)?.active).toBe(false);
  });

  it("refuses a transaction the chain does not allow with its code (exit 1)", async () => {
    // Refused at admission: a revoked key, and a key that is no admin.
    const revoked = await gov("next", "propose", "add-org", "orgE");
    expect(revoked.code).toBe(1);
    expect(revoked.err).toMatch(/^error: IDENTITY_REVOKED: /);
    const client = generateKeyPair();
    files.client = join(dir, "client.json");
    await writeKeyFile(files.client, client);
    const propose = await cairn(
      "gov",
      "propose",
      "add-org",
      "orgE",
      "--url",
      node.apiUrl,
      "--key",
      files.adminA as string,
    );
    expect(propose.code).toBe(0);
    const id = /^proposal (\d+):/.exec(propose.err)?.[1] as string;
    const stranger = await gov("client", "approve", id);
    expect(stranger.code).toBe(1);
    expect(stranger.err).toMatch(/^error: UNKNOWN_IDENTITY: /);
    expect(stranger.err.trimEnd().split("\n")).toHaveLength(1);
    const none = await gov("adminA", "show", "999");
    expect(none.code).toBe(1);
    expect(none.err).toContain("no proposal 999");
  });

  it("answers bad command lines with one line saying what to do (exit 2)", async () => {
    const cases: [string[], RegExp][] = [
      [["propose", "add-thing", "x"], /unknown action "add-thing"; known actions: add-org, remove-org, add-member/],
      [
        ["propose", "add-member", "ab"],
        /add-member takes 3 argument\(s\), got 1\. Usage: cairn gov propose add-member <publicKey> <org> <roles>/,
      ],
      [
        ["propose", "add-member", "ab".repeat(32), "orgB", "client,boss"],
        /bad roles "client,boss": expected a comma list of admin, client/,
      ],
      [["propose", "add-validator", "ab".repeat(32), "many", "v9"], /bad power "many"/],
      [["propose", "add-node", "not-a-peer-id", "n1", "orgA"], /bad peerId/],
      [["propose", "remove-validator", "xyz"], /bad publicKey "xyz": expected a public key: 64 hex digits/],
      [["approve", "one"], /a proposal id is a positive integer/],
      [["list", "--status", "done"], /--status must be one of open, executed, expired, all/],
      [["revoke", "abc"], /the key to revoke must be a public key of 64 hex digits/],
    ];
    for (const [args, message] of cases) {
      const r = await gov("adminA", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it("parses each action's arguments by the chain's ACTIONS table, which the SDK mirrors", () => {
    expect(GOV_ACTIONS).toEqual(ACTIONS);
    const pk = "cd".repeat(32);
    expect(parseProposal("add-validator", [pk, "5", "v1"]).args).toEqual([new Uint8Array(32).fill(0xcd), 5, "v1"]);
    expect(parseProposal("set-roles", [pk, "client,deployer"]).args[1]).toEqual(["client", "deployer"]);
    const peer = "12D3KooWLhPFc6ub2RL7YoYB8WTNWzJJEpLXvN6gHTAhmHGKQ4Xq";
    expect(parseProposal("add-node", [peer, "observer1", "orgB"]).args).toEqual([peer, "observer1", "orgB"]);
  });
});
