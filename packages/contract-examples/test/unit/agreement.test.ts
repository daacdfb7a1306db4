import { toHex } from "@cairn/client";
import { type PrivateWrite, privateRef } from "@cairn/messaging";
import type { PreparedContract } from "@cairn/vm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { account, buildExample, Harness } from "./harness.ts";

// The sealed-price agreement: contracts see only the hashes of private writes, and agree on a
// price by comparing them (docs/privacy.md, "Private data in contracts").

const SELLER = account(1);
const BUYER = account(2);

let contract: PreparedContract;
beforeAll(async () => {
  const built = await buildExample("agreement");
  expect(built.methods).toEqual(["offer", "accept", "sale"]);
  contract = built.contract;
});

let h: Harness;
beforeEach(() => {
  h = new Harness(contract);
});

const salt = new Uint8Array(32).fill(7);
const price = (value: string, collection = "trade", s = salt): PrivateWrite => ({
  collection,
  key: new TextEncoder().encode("lot-1/price"),
  value: new TextEncoder().encode(value),
  salt: s,
});

/** Sends `method` with these private writes named by the transaction. */
function withPrivate(caller: Uint8Array, method: string, writes: PrivateWrite[]) {
  h.host.privateRefs = writes.map(privateRef);
  return h.call(caller, method, ["lot-1"]);
}

describe("agreement (private data in a Wasm contract)", () => {
  it("sells when the buyer's hashed price equals the seller's, recording only hashes", () => {
    expect(withPrivate(SELLER, "offer", [price("1200 EUR")]).ok).toBe(true);
    const ref = privateRef(price("1200 EUR"));
    // private_put wrote the collection's hashed state, as the ledger does on every node.
    expect(toHex(h.host.privateHashes.get(`trade/${toHex(ref.keyHash)}`) as Uint8Array)).toBe(toHex(ref.valueHash));
    expect(withPrivate(BUYER, "accept", [price("1200 EUR")]).ok).toBe(true);
    h.host.privateRefs = [];
    const sale = h.query("sale", ["lot-1"]) as unknown[];
    expect(toHex(sale[0] as Uint8Array)).toBe(toHex(SELLER));
    expect(toHex(sale[1] as Uint8Array)).toBe(toHex(BUYER));
    expect(sale[2]).toBe("trade");
    expect(toHex(sale[3] as Uint8Array)).toBe(toHex(ref.valueHash));
    // Nothing stored holds the price itself.
    for (const [, v] of h.host.entries()) expect(Buffer.from(v).includes(Buffer.from("1200 EUR"))).toBe(false);
  });

  it("refuses a different price, a different salt, another collection, no private write, and the seller's own acceptance", () => {
    expect(withPrivate(SELLER, "offer", [price("1200 EUR")]).ok).toBe(true);
    const code = (r: ReturnType<typeof withPrivate>) => (r.ok ? "OK" : r.code);
    expect(code(withPrivate(BUYER, "accept", [price("1000 EUR")]))).toBe("PRICE_MISMATCH");
    expect(code(withPrivate(BUYER, "accept", [price("1200 EUR", "trade", new Uint8Array(32).fill(8))]))).toBe(
      "PRICE_MISMATCH",
    );
    expect(code(withPrivate(BUYER, "accept", [price("1200 EUR", "other")]))).toBe("WRONG_COLLECTION");
    expect(code(withPrivate(BUYER, "accept", []))).toBe("NO_PRIVATE_PRICE");
    expect(code(withPrivate(SELLER, "accept", [price("1200 EUR")]))).toBe("OWN_OFFER");
    expect(code(withPrivate(SELLER, "offer", [price("1200 EUR")]))).toBe("OFFER_EXISTS");
  });
});
