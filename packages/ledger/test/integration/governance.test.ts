import { createNativeRegistry } from "@cairn/contracts";
import { generateKeyPair, type KeyPair, toHex } from "@cairn/crypto";
import { decodeProposal, governanceContract, proposalKey, proposalState } from "@cairn/management";
import {
  RECEIPT_OK,
  type SignedTransaction,
  signTransaction,
  type Transaction,
  validatorsHash,
} from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import { type Genesis, genesisToJson, type Ledger, parseGenesis } from "../../src/index.ts";
import { commitBlock as commitOn, ledgers } from "./helpers.ts";

// Privilege management and governance through the real ledger: roles checked at admission and
// at execution, proposals that pass and expire, validator changes at a defined height.

const v0 = generateKeyPair();
const adminA = generateKeyPair();
const clientA = generateKeyPair();
const auditor = generateKeyPair();
const deployer = generateKeyPair();
const adminB = generateKeyPair();
const adminC = generateKeyPair();
const stranger = generateKeyPair();

const genesis: Genesis = parseGenesis({
  chainId: "gov-test",
  genesisTime: 1_000,
  validators: [{ name: "v0", publicKey: toHex(v0.publicKey), power: 1 }],
  admins: [],
  organizations: [
    {
      name: "orgA",
      members: [
        { publicKey: toHex(adminA.publicKey), roles: ["admin"] },
        { publicKey: toHex(clientA.publicKey), roles: ["client"] },
        { publicKey: toHex(auditor.publicKey), roles: ["auditor"] },
        { publicKey: toHex(deployer.publicKey), roles: ["deployer"] },
      ],
    },
    { name: "orgB", members: [{ publicKey: toHex(adminB.publicKey), roles: ["admin", "client"] }] },
    { name: "orgC", members: [{ publicKey: toHex(adminC.publicKey), roles: ["admin"] }] },
  ],
  params: { proposalTtl: 3 },
});

const open = ledgers(genesis, () => createNativeRegistry([governanceContract]));
const commitBlock = (ledger: Ledger, txs: SignedTransaction[]) => commitOn(ledger, v0.publicKey, txs);

let n = 0;
function call(from: KeyPair, contract: string, method: string, args: Transaction["args"]): SignedTransaction {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  return signTransaction(
    { chainId: "gov-test", sender: from.publicKey, nonce, expiry: 500, contract, method, args },
    from.secretKey,
  );
}

const put = (from: KeyPair) => call(from, "kv", "put", [new TextEncoder().encode(`k${n}`), new Uint8Array([1])]);

async function codes(ledger: Ledger, txs: SignedTransaction[]): Promise<string[]> {
  return (await commitBlock(ledger, txs)).receipts.map((r) => r.code);
}

async function admission(ledger: Ledger, tx: SignedTransaction): Promise<string | null> {
  const [err] = await ledger.checkAdmission([tx]);
  return err?.code ?? null;
}

async function proposal(ledger: Ledger, id: number) {
  const b = await ledger.state.get("gov", proposalKey(id));
  if (b === undefined) throw new Error(`no proposal ${id}`);
  return decodeProposal(b);
}

describe("privilege management", () => {
  it("admits each role to what it may do and refuses the rest with a clear code", async () => {
    const { ledger } = await open();
    expect(await admission(ledger, put(clientA))).toBeNull();
    expect(await admission(ledger, put(adminB))).toBeNull();
    expect(await admission(ledger, put(auditor))).toBe("ROLE_REQUIRED");
    expect(await admission(ledger, put(adminA))).toBe("ROLE_REQUIRED");
    expect(await admission(ledger, put(stranger))).toBe("UNKNOWN_IDENTITY");
    expect(await admission(ledger, call(clientA, "token", "mint", [clientA.publicKey, 5]))).toBe("ROLE_REQUIRED");
    expect(await admission(ledger, call(adminA, "token", "mint", [clientA.publicKey, 5]))).toBeNull();
    // The deployer passes the role check and reaches the argument check; a client does not.
    expect(await admission(ledger, call(deployer, "contracts", "deploy", ["x", new Uint8Array(1)]))).not.toBe(
      "ROLE_REQUIRED",
    );
    expect(await admission(ledger, call(clientA, "contracts", "deploy", ["x", new Uint8Array(1)]))).toBe(
      "ROLE_REQUIRED",
    );
    expect(await admission(ledger, call(clientA, "gov", "propose", ["add-org", ["orgD"]]))).toBe("ROLE_REQUIRED");
    expect(await admission(ledger, call(adminA, "gov", "propose", ["add-org", ["orgD"]]))).toBeNull();
    const [err] = await ledger.checkAdmission([put(auditor)]);
    expect(err?.message).toMatch(/needs the role client/);
  });

  it("fails a refused transaction inside a block with its code instead of executing it", async () => {
    const { ledger } = await open();
    const txs = [put(clientA), put(stranger), put(auditor), call(adminA, "token", "mint", [clientA.publicKey, 7])];
    expect(await codes(ledger, txs)).toEqual([RECEIPT_OK, "UNKNOWN_IDENTITY", "ROLE_REQUIRED", RECEIPT_OK]);
    expect(await ledger.state.get("kv", txs[1]?.tx.args[0] as Uint8Array)).toBeUndefined();
  });
});

describe("governance", () => {
  it("adds a member once a majority of organisations approved, and closes the proposal", async () => {
    const { ledger, dir, db } = await open();
    const newcomer = generateKeyPair();
    const propose = call(adminA, "gov", "propose", ["add-member", [newcomer.publicKey, "orgB", ["client"]]]);
    const executed = await commitBlock(ledger, [propose]);
    expect(executed.receipts[0]?.code).toBe(RECEIPT_OK);
    expect(executed.receipts[0]?.events.map((e) => e.name)).toEqual(["proposed"]);
    expect((await proposal(ledger, 1)).status).toBe("open");
    expect(await admission(ledger, put(newcomer))).toBe("UNKNOWN_IDENTITY");
    // 3 organisations at 50 %: 2 approvals. A second approval from orgA does not count.
    expect(await codes(ledger, [call(adminA, "gov", "approve", [1])])).toEqual(["ALREADY_APPROVED"]);
    const approved = await commitBlock(ledger, [call(adminB, "gov", "approve", [1])]);
    expect(approved.receipts[0]?.events.map((e) => e.name)).toEqual(["approved", "executed"]);
    const p = await proposal(ledger, 1);
    expect(p).toMatchObject({ status: "executed", approvals: ["orgA", "orgB"], executedAt: ledger.head().height });
    expect(await admission(ledger, put(newcomer))).toBeNull();
    expect(await codes(ledger, [put(newcomer)])).toEqual([RECEIPT_OK]);
    expect(await codes(ledger, [call(adminC, "gov", "approve", [1])])).toEqual(["PROPOSAL_CLOSED"]);
    // The registry is rebuilt from the state after a restart.
    await db.close();
    const reopened = await open(dir);
    expect(reopened.ledger.registry.identity(newcomer.publicKey)).toMatchObject({ org: "orgB", active: true });
  });

  it("lets a proposal expire after proposalTtl blocks", async () => {
    const { ledger } = await open();
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["add-org", ["orgD"]])]);
    const p = await proposal(ledger, 1);
    expect(p.expiresAt).toBe(p.createdAt + 3);
    for (let i = 0; i < 3; i++) await commitBlock(ledger, []);
    expect(proposalState(p, ledger.head().height + 1)).toBe("expired");
    expect(await codes(ledger, [call(adminB, "gov", "approve", [1])])).toEqual(["PROPOSAL_EXPIRED"]);
    expect(ledger.registry.organizations).toEqual(["orgA", "orgB", "orgC"]);
  });

  it("schedules a validator set change validatorDelay blocks after it passed", async () => {
    const { ledger } = await open();
    const v1 = generateKeyPair();
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["add-validator", [v1.publicKey, 2, "v1"]])]);
    const passed = await commitBlock(ledger, [call(adminC, "gov", "approve", [1])]);
    const h = passed.block.header.height;
    expect(ledger.validatorsAt(h + 1).map((v) => v.name)).toEqual(["v0"]);
    expect(ledger.validatorsAt(h + 2).map((v) => [v.name, v.power])).toEqual([
      ["v0", 1],
      ["v1", 2],
    ]);
    const next = await commitBlock(ledger, []);
    expect(toHex(next.block.header.validatorsHash)).toBe(toHex(validatorsHash(ledger.validatorsAt(h + 1))));
    const reconfigured = await commitBlock(ledger, []);
    expect(toHex(reconfigured.block.header.validatorsHash)).toBe(toHex(validatorsHash(ledger.validatorsAt(h + 2))));
    expect(ledger.validators().length).toBe(2);
    // A validator's consensus key rotates by governance: same name and power, new key, at h + 2.
    const v1next = generateKeyPair();
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["rotate-validator", [v1.publicKey, v1next.publicKey]])]);
    const rotated = await commitBlock(ledger, [call(adminB, "gov", "approve", [2])]);
    const r = rotated.block.header.height;
    expect(ledger.validatorsAt(r + 1).map((v) => toHex(v.publicKey))).toContain(toHex(v1.publicKey));
    expect(ledger.validatorsAt(r + 2).map((v) => [toHex(v.publicKey), v.power, v.name])).toEqual([
      [toHex(v0.publicKey), 1, "v0"],
      [toHex(v1next.publicKey), 2, "v1"],
    ]);
    await commitBlock(ledger, []);
    await commitBlock(ledger, []);
    // Removing every validator is refused when the change would take effect.
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["remove-validator", [v0.publicKey]])]);
    await commitBlock(ledger, [call(adminB, "gov", "approve", [3])]);
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["remove-validator", [v1next.publicKey]])]);
    expect(await codes(ledger, [call(adminB, "gov", "approve", [4])])).toEqual(["LAST_VALIDATOR"]);
  });

  it("rotates and revokes keys without a vote, within the rules", async () => {
    const { ledger } = await open();
    const rotated = generateKeyPair();
    expect(await codes(ledger, [call(clientA, "gov", "rotate", [rotated.publicKey])])).toEqual([RECEIPT_OK]);
    expect(await admission(ledger, put(clientA))).toBe("IDENTITY_REVOKED");
    expect(ledger.registry.identity(rotated.publicKey)).toMatchObject({ org: "orgA", roles: ["client"], active: true });
    // Another organisation's admin may not revoke orgA's key; orgA's admin may.
    expect(await codes(ledger, [call(adminB, "gov", "revoke", [rotated.publicKey])])).toEqual(["ROLE_REQUIRED"]);
    expect(await codes(ledger, [call(adminA, "gov", "revoke", [rotated.publicKey])])).toEqual([RECEIPT_OK]);
    expect(await admission(ledger, put(rotated))).toBe("IDENTITY_REVOKED");
    // A revoked key's transaction already in a block fails there.
    expect(await codes(ledger, [put(rotated)])).toEqual(["IDENTITY_REVOKED"]);
  });

  it("deactivates the identities of a removed organisation and registers nodes", async () => {
    const { ledger } = await open();
    const peerId = "12D3KooWLhPFc6ub2RL7YoYB8WTNWzJJEpLXvN6gHTAhmHGKQ4Xq";
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["add-node", [peerId, "observer1", "orgB"]])]);
    await commitBlock(ledger, [call(adminC, "gov", "approve", [1])]);
    expect(ledger.registry.nodes.map((x) => x.peerId)).toEqual([peerId]);
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["remove-org", ["orgB"]])]);
    await commitBlock(ledger, [call(adminC, "gov", "approve", [2])]);
    expect(await admission(ledger, put(adminB))).toBe("IDENTITY_REVOKED");
    expect(await codes(ledger, [call(adminA, "gov", "propose", ["bogus", []])])).toEqual(["UNKNOWN_ACTION"]);
    expect(await admission(ledger, call(adminA, "gov", "propose", ["add-org", [42]]))).toBe("BAD_ARGS");
  });

  it("on a Raft chain, changes the validator set one member at a time: no rotation, nothing while a change is pending", async () => {
    const raft = ledgers(parseGenesis({ ...genesisToJson(genesis), consensus: "raft" }), () =>
      createNativeRegistry([governanceContract]),
    );
    const { ledger } = await raft();
    const [a, b] = [generateKeyPair(), generateKeyPair()];
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["add-validator", [a.publicKey, 1, "a"]])]);
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["add-validator", [b.publicKey, 1, "b"]])]);
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["rotate-validator", [v0.publicKey, b.publicKey]])]);
    // The first change is scheduled; the second may not be approved while it is pending.
    expect(await codes(ledger, [call(adminB, "gov", "approve", [1]), call(adminB, "gov", "approve", [2])])).toEqual([
      RECEIPT_OK,
      "VALIDATOR_CHANGE_PENDING",
    ]);
    expect(await codes(ledger, [call(adminB, "gov", "approve", [3])])).toEqual(["ONE_VALIDATOR_CHANGE"]);
    await commitBlock(ledger, []);
    // In effect now: the next change may pass.
    expect(ledger.validators().map((v) => v.name)).toEqual(["v0", "a"]);
    await commitBlock(ledger, [call(adminA, "gov", "propose", ["add-validator", [b.publicKey, 1, "b"]])]);
    expect(await codes(ledger, [call(adminC, "gov", "approve", [4])])).toEqual([RECEIPT_OK]);
  });
});
