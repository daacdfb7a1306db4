import type { Value } from "@cairn/messaging";
import type { PreparedContract } from "@cairn/vm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { account, buildExample, Harness } from "./harness.ts";

const OWNER = account(9);
const BANK = account(1);
const NOTARY = account(2);
const ALICE = account(5);
const BOB = account(6);
const STRANGER = account(7);

let contract: PreparedContract;
beforeAll(async () => {
  const built = await buildExample("identity");
  expect(built.methods).toEqual([
    "init",
    "addIssuer",
    "removeIssuer",
    "issue",
    "revoke",
    "verify",
    "claims",
    "issuer",
    "issuers",
    "info",
  ]);
  contract = built.contract;
});

let h: Harness;
beforeEach(() => {
  h = new Harness(contract, { height: 10 });
});

/** The owner initialises the registry and adds the bank and the notary as issuers. */
function setUp(): void {
  h.send(OWNER, "init");
  h.send(OWNER, "addIssuer", [BANK, "First Bank"]);
  h.send(OWNER, "addIssuer", [NOTARY, "City Notary"]);
  h.takeEvents();
}

/** verify's answer as an object, for readable assertions. */
function verify(subject: Uint8Array, claimType: string) {
  const [valid, issuer, issuerName, value, expired, revoked, issuerActive, expiresAt] = h.query("verify", [
    subject,
    claimType,
  ]) as Value[];
  return { valid, issuer, issuerName, value, expired, revoked, issuerActive, expiresAt };
}

describe("identity contract: owner and issuers", () => {
  it("init makes the caller the owner, once", () => {
    h.send(OWNER, "init");
    expect(h.takeEvents()).toEqual([{ name: "init", data: [OWNER] }]);
    expect(h.query("info")).toEqual([OWNER, 0]);
    h.reject(BANK, "init", [], "ALREADY_INITIALIZED");
  });

  it("fails NOT_INITIALIZED before init", () => {
    h.reject(OWNER, "addIssuer", [BANK, "First Bank"], "NOT_INITIALIZED");
    h.reject(BANK, "issue", [ALICE, "kyc", "1", 0], "NOT_INITIALIZED");
    h.queryFails("info", [], "NOT_INITIALIZED");
  });

  it("lets only the owner add and remove issuers", () => {
    h.send(OWNER, "init");
    h.takeEvents();
    h.send(OWNER, "addIssuer", [BANK, "First Bank"]);
    expect(h.takeEvents()).toEqual([{ name: "issuerAdded", data: [BANK, "First Bank"] }]);
    expect(h.query("issuer", [BANK])).toEqual(["First Bank", 10]);
    expect(h.query("issuer", [NOTARY])).toBeNull();
    expect(h.reject(BANK, "addIssuer", [NOTARY, "City Notary"], "NOT_OWNER")).toContain("only the owner");
    expect(h.reject(OWNER, "addIssuer", [BANK, "Again"], "ISSUER_EXISTS")).toContain("First Bank");
    h.reject(OWNER, "addIssuer", [NOTARY, ""], "BAD_ARGS");
    h.send(OWNER, "addIssuer", [NOTARY, "City Notary"]);
    expect(h.query("issuers")).toEqual([
      [BANK, "First Bank", 10],
      [NOTARY, "City Notary", 10],
    ]);
    expect(h.query("info")).toEqual([OWNER, 2]);

    h.takeEvents();
    h.reject(NOTARY, "removeIssuer", [BANK], "NOT_OWNER");
    h.send(OWNER, "removeIssuer", [BANK]);
    expect(h.takeEvents()).toEqual([{ name: "issuerRemoved", data: [BANK] }]);
    expect(h.query("issuer", [BANK])).toBeNull();
    expect(h.reject(OWNER, "removeIssuer", [BANK], "NOT_ISSUER")).toContain("not a registered issuer");
    expect(h.query("info")).toEqual([OWNER, 1]);
  });
});

describe("identity contract: claims", () => {
  it("lets an issuer attest a claim that anyone can verify", () => {
    setUp();
    h.send(BANK, "issue", [ALICE, "kyc-level", "2", 1000]);
    expect(h.takeEvents()).toEqual([{ name: "issued", data: [ALICE, "kyc-level", BANK, "2", 1000] }]);
    expect(verify(ALICE, "kyc-level")).toEqual({
      valid: true,
      issuer: BANK,
      issuerName: "First Bank",
      value: "2",
      expired: false,
      revoked: false,
      issuerActive: true,
      expiresAt: 1000,
    });
    h.send(NOTARY, "issue", [ALICE, "residence", "DE", 0]);
    h.send(NOTARY, "issue", [BOB, "residence", "FR", 0]);
    // In claim type order; Bob's claims are apart from Alice's.
    expect(h.query("claims", [ALICE])).toEqual([
      ["kyc-level", BANK, "2", "valid", 10, 1000],
      ["residence", NOTARY, "DE", "valid", 10, 0],
    ]);
    expect(h.query("claims", [BOB])).toEqual([["residence", NOTARY, "FR", "valid", 10, 0]]);
    expect(h.query("claims", [STRANGER])).toEqual([]);
    expect(h.queryFails("verify", [BOB, "kyc-level"], "UNKNOWN_CLAIM")).toContain("no kyc-level claim");
  });

  it("refuses claims from anyone but a registered issuer, and bad claims", () => {
    setUp();
    expect(h.reject(STRANGER, "issue", [ALICE, "kyc-level", "3", 0], "NOT_ISSUER")).toContain("registered issuer");
    h.reject(OWNER, "issue", [ALICE, "kyc-level", "3", 0], "NOT_ISSUER");
    expect(h.reject(BANK, "issue", [ALICE, "kyc-level", "2", 10], "BAD_ARGS")).toContain(
      "expiresAt 10 is not after the current height 10",
    );
    h.reject(BANK, "issue", [ALICE, "kyc level", "2", 0], "BAD_ARGS");
    h.reject(BANK, "issue", [ALICE, "", "2", 0], "BAD_ARGS");
    h.reject(BANK, "issue", [ALICE, "t".repeat(65), "2", 0], "BAD_ARGS");
    h.reject(BANK, "issue", [ALICE, "kyc-level", "v".repeat(257), 0], "BAD_ARGS");
    h.reject(BANK, "issue", [ALICE, "kyc-level", new Uint8Array([1]), 0], "BAD_ARGS");
    h.reject(BANK, "issue", [ALICE.subarray(1), "kyc-level", "2", 0], "BAD_ARGS");
    h.reject(BANK, "issue", [ALICE, "kyc-level", "2"], "BAD_ARGS");
    expect(h.query("claims", [ALICE])).toEqual([]);
  });

  it("evaluates expiry against the current height: valid up to expiresAt - 1", () => {
    setUp();
    h.send(BANK, "issue", [ALICE, "kyc-level", "2", 20]);
    h.send(NOTARY, "issue", [ALICE, "residence", "DE", 0]);
    h.advance(9); // height 19
    expect(verify(ALICE, "kyc-level")).toMatchObject({ valid: true, expired: false });
    h.advance(1); // height 20
    expect(verify(ALICE, "kyc-level")).toMatchObject({ valid: false, expired: true, revoked: false, expiresAt: 20 });
    h.advance(1_000_000);
    expect(verify(ALICE, "residence")).toMatchObject({ valid: true, expired: false, expiresAt: 0 });
    expect(h.query("claims", [ALICE])).toEqual([
      ["kyc-level", BANK, "2", "expired", 10, 20],
      ["residence", NOTARY, "DE", "valid", 10, 0],
    ]);
  });

  it("lets only the claim's issuer revoke it, once", () => {
    setUp();
    h.send(BANK, "issue", [ALICE, "kyc-level", "2", 0]);
    h.takeEvents();
    expect(h.reject(NOTARY, "revoke", [ALICE, "kyc-level"], "NOT_ISSUER")).toContain("issuer of the claim");
    h.reject(OWNER, "revoke", [ALICE, "kyc-level"], "NOT_ISSUER");
    h.reject(STRANGER, "revoke", [ALICE, "kyc-level"], "NOT_ISSUER");
    h.reject(BANK, "revoke", [ALICE, "residence"], "UNKNOWN_CLAIM");
    h.reject(BANK, "revoke", [BOB, "kyc-level"], "UNKNOWN_CLAIM");
    h.advance(5);
    h.send(BANK, "revoke", [ALICE, "kyc-level"]);
    expect(h.takeEvents()).toEqual([{ name: "revoked", data: [ALICE, "kyc-level", BANK] }]);
    expect(verify(ALICE, "kyc-level")).toMatchObject({
      valid: false,
      revoked: true,
      expired: false,
      issuerActive: true,
    });
    expect(h.query("claims", [ALICE])).toEqual([["kyc-level", BANK, "2", "revoked", 10, 0]]);
    expect(h.reject(BANK, "revoke", [ALICE, "kyc-level"], "ALREADY_REVOKED")).toContain("at height 15");
  });

  it("invalidates a removed issuer's claims; it can revoke them but not issue", () => {
    setUp();
    h.send(BANK, "issue", [ALICE, "kyc-level", "2", 0]);
    h.send(OWNER, "removeIssuer", [BANK]);
    expect(verify(ALICE, "kyc-level")).toMatchObject({
      valid: false,
      revoked: false,
      expired: false,
      issuerActive: false,
      issuerName: "",
    });
    expect(h.query("claims", [ALICE])).toEqual([["kyc-level", BANK, "2", "issuer-removed", 10, 0]]);
    h.reject(BANK, "issue", [BOB, "kyc-level", "1", 0], "NOT_ISSUER");
    h.send(BANK, "revoke", [ALICE, "kyc-level"]);
    expect(verify(ALICE, "kyc-level")).toMatchObject({ valid: false, revoked: true });
  });

  it("replaces a claim: its own issuer any time, another issuer only once it is no longer valid", () => {
    setUp();
    h.send(BANK, "issue", [ALICE, "kyc-level", "1", 50]);
    h.advance(1);
    h.send(BANK, "issue", [ALICE, "kyc-level", "2", 100]);
    expect(verify(ALICE, "kyc-level")).toMatchObject({ valid: true, value: "2", expiresAt: 100 });
    expect(h.reject(NOTARY, "issue", [ALICE, "kyc-level", "3", 0], "CLAIM_EXISTS")).toContain("First Bank");
    // Once expired, another issuer may attest anew.
    h.advance(100);
    h.send(NOTARY, "issue", [ALICE, "kyc-level", "3", 0]);
    expect(verify(ALICE, "kyc-level")).toMatchObject({ valid: true, issuer: NOTARY, value: "3" });
    // Once revoked, too; and a re-issued claim is no longer revoked.
    h.send(NOTARY, "revoke", [ALICE, "kyc-level"]);
    h.send(BANK, "issue", [ALICE, "kyc-level", "2", 0]);
    expect(verify(ALICE, "kyc-level")).toMatchObject({ valid: true, issuer: BANK, revoked: false });
    expect(h.query("claims", [ALICE])).toEqual([["kyc-level", BANK, "2", "valid", 111, 0]]);
  });

  it("cannot be changed by a read-only query", () => {
    setUp();
    h.failed(h.call(BANK, "issue", [ALICE, "kyc-level", "2", 0], true), "READ_ONLY");
    h.queryFails("verify", [ALICE, "kyc-level"], "UNKNOWN_CLAIM");
  });
});
