import { generateKeyPair, sign, toHex } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import {
  decodePrivateWrites,
  decodeTransaction,
  encode,
  encodePrivateWrites,
  encodeTxBody,
  MAX_PRIVATE_REFS,
  matchesRef,
  namesPrivateWrites,
  type PrivateWrite,
  pairPrivateWrites,
  privateRef,
  privateRefToValue,
  signTransaction,
  type Transaction,
  txSigningBytes,
} from "../../src/index.ts";

const key = generateKeyPair();
const write = (k: string, v: string, collection = "ab"): PrivateWrite => ({
  collection,
  key: new TextEncoder().encode(k),
  value: new TextEncoder().encode(v),
  salt: new Uint8Array(32).fill(3),
});
const base: Transaction = {
  chainId: "c",
  sender: key.publicKey,
  nonce: new Uint8Array(16),
  expiry: 10,
  contract: "pkv",
  method: "put",
  args: [],
};

/** An envelope of an arbitrary body, signed (what a careless or hostile client could send). */
function envelopeOf(body: Uint8Array): Uint8Array {
  return encode([body, sign(txSigningBytes(body), key.secretKey)]);
}

describe("private writes in transactions", () => {
  it("keeps version 1 bodies byte for byte, and encodes version 2 only with private writes", () => {
    const v1 = signTransaction(base, key.secretKey);
    expect(v1.body[1]).toBe(1);
    expect(toHex(encodeTxBody({ ...base, private: [] }))).toBe(toHex(v1.body));
    const v2 = signTransaction({ ...base, private: [privateRef(write("k", "v"))] }, key.secretKey);
    expect(v2.body[0]).toBe(0x99);
    expect(v2.body[1]).toBe(2);
    const back = decodeTransaction(v2.bytes);
    expect(back.tx.private?.map((r) => toHex(r.valueHash))).toEqual([toHex(privateRef(write("k", "v")).valueHash)]);
    expect(toHex(back.hash)).toBe(toHex(v2.hash));
  });

  it("tells a version 2 envelope by its first bytes", () => {
    const v1 = signTransaction(base, key.secretKey);
    const v2 = signTransaction({ ...base, private: [privateRef(write("k", "v"))] }, key.secretKey);
    const big = signTransaction(
      { ...base, args: [new Uint8Array(300)], private: [privateRef(write("k", "v"))] },
      key.secretKey,
    );
    expect([v1, v2, big].map((t) => namesPrivateWrites(t.bytes))).toEqual([false, true, true]);
    expect(namesPrivateWrites(new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it("salts the value hash, not the key hash", () => {
    const a = privateRef(write("k", "v"));
    const b = privateRef({ ...write("k", "v"), salt: new Uint8Array(32).fill(4) });
    expect(toHex(a.keyHash)).toBe(toHex(b.keyHash));
    expect(toHex(a.valueHash)).not.toBe(toHex(b.valueHash));
    // The key hash binds the collection.
    expect(toHex(privateRef(write("k", "v", "other")).keyHash)).not.toBe(toHex(a.keyHash));
  });

  it("refuses malformed bodies: version 2 without writes, too many, a key twice, bad hashes, version 1 with nine fields", () => {
    const fields = [base.chainId, base.sender, base.nonce, base.expiry, base.contract, base.method, []];
    const ref = privateRefToValue(privateRef(write("k", "v")));
    const code = (body: Uint8Array) => {
      try {
        decodeTransaction(envelopeOf(body));
        return "OK";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(encode([2, ...fields, []]))).toBe("BAD_FIELD");
    expect(code(encode([2, ...fields]))).toBe("BAD_FIELD");
    expect(code(encode([1, ...fields, [ref]]))).toBe("BAD_FIELD");
    expect(code(encode([2, ...fields, [ref, ref]]))).toBe("BAD_FIELD");
    const many = Array.from({ length: MAX_PRIVATE_REFS + 1 }, (_, i) =>
      privateRefToValue(privateRef(write(`k${i}`, "v"))),
    );
    expect(code(encode([2, ...fields, many]))).toBe("BAD_FIELD");
    expect(code(encode([2, ...fields, [["ab", new Uint8Array(31), new Uint8Array(32)]]]))).toBe("BAD_FIELD");
    expect(code(encode([2, ...fields, [["a/b", new Uint8Array(32), new Uint8Array(32)]]]))).toBe("BAD_FIELD");
    expect(code(encode([3, ...fields, [ref]]))).toBe("BAD_VERSION");
    expect(code(encode([2, ...fields, [ref]]))).toBe("OK");
  });

  it("pairs plaintext with references, and says which one does not match", () => {
    const ws = [write("a", "1"), write("b", "2")];
    const refs = ws.map(privateRef);
    expect(pairPrivateWrites(refs, [ws[1] as PrivateWrite, ws[0] as PrivateWrite])).toEqual(ws);
    expect(() => pairPrivateWrites(refs, [ws[0] as PrivateWrite])).toThrow(/names 2 private write/);
    expect(() => pairPrivateWrites(refs, [ws[0] as PrivateWrite, write("b", "3")])).toThrow(/reference 1/);
    expect(matchesRef(write("a", "1"), refs[1] as never)).toBe(false);
    expect(decodePrivateWrites(encodePrivateWrites(ws))).toEqual(ws);
  });
});
