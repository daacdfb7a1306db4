// Walkthrough of KYC attestations (contracts/identity) on a running cluster: the admin deploys the
// registry and adds a bank and a notary as issuers; they attest claims about Alice and Bob, which
// anyone can verify against the current block height; a claim is revoked, another expires, and
// an issuer is removed, which invalidates its claims.
//   node packages/contract-examples/scripts/identity.ts [--url http://127.0.0.1:26600] [--keys .cairn/cluster/keys]
import type { Value } from "@cairn/client";
import { runWalkthrough } from "./walkthrough.ts";

runWalkthrough("identity", "Identity walkthrough: KYC attestations (FG DLT use case)", async (w) => {
  const bank = w.actor("Bank");
  const notary = w.actor("Notary");
  const alice = w.actor("Alice");
  const bob = w.actor("Bob");
  const carol = w.actor("Carol");

  /** verify's answer: [valid, issuer, issuerName, value, expired, revoked, issuerActive, expiresAt]. */
  const verify = async (subject: Uint8Array, claimType: string): Promise<Value[]> =>
    (await w.query("verify", [subject, claimType])) as Value[];

  w.section("Build and deploy");
  await w.deploy("identity");

  w.section("The admin initialises the registry and adds the issuers");
  await w.send(w.admin, "init");
  let r = await w.send(w.admin, "addIssuer", [bank.publicKey, "First Bank"]);
  w.expectEvents(r, [["issuerAdded", [bank.publicKey, "First Bank"]]]);
  await w.send(w.admin, "addIssuer", [notary.publicKey, "City Notary"]);
  await w.send(bank, "addIssuer", [carol.publicKey, "Carol's Certificates"], "NOT_OWNER");
  await w.query("issuers");

  w.section("Issuers attest claims about Alice");
  await w.send(carol, "issue", [alice.publicKey, "kyc-level", "3", 0], "NOT_ISSUER");
  r = await w.send(bank, "issue", [alice.publicKey, "kyc-level", "2", 0]);
  w.expectEvents(r, [["issued", [alice.publicKey, "kyc-level", bank.publicKey, "2", 0]]]);
  // A short-lived claim: valid for the next few blocks only.
  const expiresAt = (await w.height()) + 6;
  w.note(`the notary's residence claim is valid up to height ${expiresAt - 1}`);
  await w.send(notary, "issue", [alice.publicKey, "residence", "DE", expiresAt]);
  await w.send(notary, "issue", [alice.publicKey, "kyc-level", "3", 0], "CLAIM_EXISTS");

  w.section("A relying party verifies Alice's claims");
  let v = await verify(alice.publicKey, "kyc-level");
  w.expectEqual(v.slice(0, 4), [true, bank.publicKey, "First Bank", "2"], "kyc-level 2 from First Bank is valid");
  v = await verify(alice.publicKey, "residence");
  w.expectEqual(
    [v[0]!, v[4]!, v[7]!],
    [true, false, expiresAt],
    `residence is valid, not expired yet (expires at ${expiresAt})`,
  );
  await w.query("claims", [alice.publicKey]);

  w.section("The bank revokes Alice's KYC claim");
  await w.send(notary, "revoke", [alice.publicKey, "kyc-level"], "NOT_ISSUER");
  r = await w.send(bank, "revoke", [alice.publicKey, "kyc-level"]);
  w.expectEvents(r, [["revoked", [alice.publicKey, "kyc-level", bank.publicKey]]]);
  await w.send(bank, "revoke", [alice.publicKey, "kyc-level"], "ALREADY_REVOKED");
  await w.send(bank, "revoke", [alice.publicKey, "passport"], "UNKNOWN_CLAIM");
  v = await verify(alice.publicKey, "kyc-level");
  w.expectEqual([v[0]!, v[5]!], [false, true], "kyc-level is revoked: not valid");

  w.section("Bob is onboarded by both issuers");
  await w.send(bank, "issue", [bob.publicKey, "kyc-level", "1", 0]);
  await w.send(notary, "issue", [bob.publicKey, "residence", "FR", 0]);

  w.section("Time passes: Alice's residence claim expires");
  const now = await w.waitForHeight(expiresAt, 10_000);
  v = await verify(alice.publicKey, "residence");
  w.expectEqual([v[0]!, v[4]!], [false, true], `at height ${now} ≥ ${expiresAt} the residence claim has expired`);

  w.section("The admin removes the notary: its claims stop being valid");
  await w.send(notary, "removeIssuer", [notary.publicKey], "NOT_OWNER");
  await w.send(w.admin, "removeIssuer", [notary.publicKey]);
  await w.send(notary, "issue", [carol.publicKey, "residence", "IT", 0], "NOT_ISSUER");
  const bobClaims = (await w.query("claims", [bob.publicKey])) as Value[][];
  w.expectEqual(
    bobClaims.map((c) => [c[0]!, c[3]!]),
    [
      ["kyc-level", "valid"],
      ["residence", "issuer-removed"],
    ],
    "Bob: kyc-level valid, residence issuer-removed",
  );
  const aliceClaims = (await w.query("claims", [alice.publicKey])) as Value[][];
  w.expectEqual(
    aliceClaims.map((c) => [c[0]!, c[3]!]),
    [
      ["kyc-level", "revoked"],
      ["residence", "expired"],
    ],
    "Alice: kyc-level revoked, residence expired",
  );
  await w.query("verify", [carol.publicKey, "kyc-level"], "UNKNOWN_CLAIM");
  w.expectEqual(await w.query("info"), [w.admin.publicKey, 1], "one issuer left");
});
