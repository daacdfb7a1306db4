import { readFileSync } from "node:fs";
import { fromHex, toHex, verify } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import { describe, expect, it } from "vitest";
import {
  blockHash,
  decode,
  decodeTransaction,
  headerFromValue,
  matchesRef,
  type PrivateRef,
  txSigningBytes,
} from "../../src/index.ts";
import { buildVectors } from "../vectors/vectors.ts";

const file = JSON.parse(readFileSync(new URL("../../../../docs/spec/test-vectors.json", import.meta.url), "utf8"));

describe("docs/spec/test-vectors.json", () => {
  it("is exactly what the code produces (messaging's part; the ledger checks its own)", () => {
    const built = JSON.parse(JSON.stringify(buildVectors()));
    const mine = Object.fromEntries(Object.keys(built).map((k) => [k, file[k]]));
    expect(built).toEqual(mine);
  });

  it("signs the vote, the commit and the read with the key, so each signature verifies", () => {
    const pub = fromHex(file.key.publicKey);
    expect(verify(fromHex(file.vote.signature), fromHex(file.vote.signingBytes), pub)).toBe(true);
    expect(file.commit.fields.signatures[0].signature).toBe(file.vote.signature);
    const read = file.signedRead;
    expect(verify(fromHex(read.headers["x-cairn-signature"]), fromHex(read.signingBytes), pub)).toBe(true);
  });

  it("decodes each transaction envelope back to its fields, hash and a valid signature", () => {
    for (const t of file.transactions) {
      const s = decodeTransaction(fromHex(t.envelope));
      expect(s.tx.chainId).toBe(t.fields.chainId);
      expect(toHex(s.tx.sender)).toBe(t.fields.sender);
      expect(toHex(s.tx.nonce)).toBe(t.fields.nonce);
      expect(s.tx.expiry).toBe(t.fields.expiry);
      expect(s.tx.method).toBe(t.fields.method);
      expect(toHex(s.hash)).toBe(t.hash);
      expect(toHex(txSigningBytes(s.body))).toBe(t.signingBytes);
      expect(verify(s.signature, fromHex(t.signingBytes), s.tx.sender)).toBe(true);
      expect(nativeVerify(s.signature, fromHex(t.signingBytes), s.tx.sender)).toBe(true);
    }
  });

  it("decodes the private transaction: version 2, its reference matching the plaintext", () => {
    const p = file.privateTransaction;
    const s = decodeTransaction(fromHex(p.envelope));
    expect(toHex(s.body).slice(0, 4)).toBe("9902");
    expect(s.tx.private?.map((r) => [r.collection, toHex(r.keyHash), toHex(r.valueHash)])).toEqual([
      [p.ref.collection, p.ref.keyHash, p.ref.valueHash],
    ]);
    const w = {
      collection: p.write.collection,
      key: fromHex(p.write.key),
      value: fromHex(p.write.value),
      salt: fromHex(p.write.salt),
    };
    expect(matchesRef(w, s.tx.private?.[0] as PrivateRef)).toBe(true);
    expect(nativeVerify(s.signature, txSigningBytes(s.body), s.tx.sender)).toBe(true);
  });

  it("decodes the block header and reproduces its hash", () => {
    const h = headerFromValue(decode(fromHex(file.blockHeader.encoding)));
    expect(h.time).toBe(file.blockHeader.fields.time);
    expect(toHex(blockHash(h))).toBe(file.blockHeader.hash);
  });
});
