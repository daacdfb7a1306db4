import { toHex, utf8 } from "@cairn/crypto";
import { decodeTransaction, encode } from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import {
  buildTransaction,
  decodeBalance,
  generateKey,
  kv,
  NONCE_BYTES,
  signTransaction,
  token,
} from "../../src/index.ts";

describe("buildTransaction", () => {
  it("builds a signable transaction with a fresh random nonce", () => {
    const k = generateKey();
    const params = { chainId: "c1", sender: toHex(k.publicKey), ...kv.put("a", "b"), expiry: 10 };
    const t1 = buildTransaction(params);
    const t2 = buildTransaction(params);
    expect(t1.nonce).toHaveLength(NONCE_BYTES);
    expect(toHex(t1.nonce)).not.toBe(toHex(t2.nonce));
    expect(t1.sender).toEqual(k.publicKey);
    const signed = signTransaction(t1, k.secretKey);
    const back = decodeTransaction(signed.bytes);
    expect(back.tx).toEqual({ ...t1, args: [utf8.encode("a"), utf8.encode("b")] });
  });

  it("keeps a given nonce", () => {
    const k = generateKey();
    const nonce = new Uint8Array(8).fill(7);
    const t = buildTransaction({ chainId: "c", sender: k.publicKey, ...kv.delete("x"), expiry: 1, nonce });
    expect(t.nonce).toBe(nonce);
  });

  it("rejects a malformed sender", () => {
    expect(() =>
      buildTransaction({ chainId: "c", sender: "abcd", contract: "kv", method: "put", args: [], expiry: 1 }),
    ).toThrow(expect.objectContaining({ code: "BAD_LENGTH" }));
  });
});

describe("contract builders", () => {
  const to = generateKey().publicKey;

  it("builds kv calls from text or bytes", () => {
    expect(kv.put("k", "v")).toEqual({ contract: "kv", method: "put", args: [utf8.encode("k"), utf8.encode("v")] });
    expect(kv.put(new Uint8Array([1]), new Uint8Array([2])).args).toEqual([new Uint8Array([1]), new Uint8Array([2])]);
    expect(kv.delete("k")).toEqual({ contract: "kv", method: "delete", args: [utf8.encode("k")] });
  });

  it("builds token calls with number or bigint amounts", () => {
    expect(token.mint(to, 5)).toEqual({ contract: "token", method: "mint", args: [to, 5] });
    expect(token.transfer(toHex(to), 5n)).toEqual({ contract: "token", method: "transfer", args: [to, 5] });
    const big = token.transfer(to, 2n ** 64n - 1n);
    expect(big.args[1]).toBe(2n ** 64n - 1n);
    // Number and bigint encode identically.
    expect(encode(token.mint(to, 7).args as never)).toEqual(encode(token.mint(to, 7n).args as never));
  });

  it("rejects bad amounts and accounts", () => {
    for (const a of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, 0n, 2n ** 64n, Number.NaN]) {
      expect(() => token.transfer(to, a), String(a)).toThrow(expect.objectContaining({ code: "BAD_AMOUNT" }));
    }
    expect(() => token.mint(new Uint8Array(31), 1)).toThrow(expect.objectContaining({ code: "BAD_LENGTH" }));
    expect(() => token.mint("nothex", 1)).toThrow(expect.objectContaining({ code: "BAD_HEX" }));
  });

  it("decodes balances", () => {
    expect(decodeBalance(undefined)).toBe(0n);
    expect(decodeBalance(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 0]))).toBe(256n);
    expect(() => decodeBalance(new Uint8Array(3))).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
  });
});
