import { sign, toHex, verify } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import { CairnClientError, encodeKeyFile, generateKey, keyFromSecret, parseKeyFile } from "../../src/index.ts";

describe("keys", () => {
  it("generates distinct working key pairs", () => {
    const a = generateKey();
    const b = generateKey();
    expect(a.publicKey).toHaveLength(32);
    expect(a.secretKey).toHaveLength(32);
    expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
    const msg = new Uint8Array([1, 2, 3]);
    expect(verify(sign(msg, a.secretKey), msg, a.publicKey)).toBe(true);
  });

  it("rebuilds a key from its secret as bytes or hex", () => {
    const k = generateKey();
    expect(keyFromSecret(k.secretKey).publicKey).toEqual(k.publicKey);
    expect(keyFromSecret(toHex(k.secretKey)).publicKey).toEqual(k.publicKey);
    expect(() => keyFromSecret("abcd")).toThrow(CairnClientError);
    expect(() => keyFromSecret("zz".repeat(32))).toThrow(expect.objectContaining({ code: "BAD_HEX" }));
  });

  it("round-trips the key file", () => {
    const k = generateKey();
    const text = encodeKeyFile(k);
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual({ type: "ed25519", publicKey: toHex(k.publicKey), secretKey: toHex(k.secretKey) });
    expect(parseKeyFile(text)).toEqual({ publicKey: k.publicKey, secretKey: k.secretKey });
    expect(parseKeyFile(JSON.parse(text)).publicKey).toEqual(k.publicKey);
  });

  it("rejects bad key files with BAD_KEY_FILE", () => {
    const k = generateKey();
    const other = generateKey();
    const good = JSON.parse(encodeKeyFile(k));
    const bad: unknown[] = [
      "not json",
      "null",
      JSON.stringify({ ...good, type: "secp256k1" }),
      JSON.stringify({ ...good, secretKey: undefined }),
      JSON.stringify({ ...good, secretKey: "xyz" }),
      JSON.stringify({ ...good, publicKey: toHex(other.publicKey) }),
      JSON.stringify({ ...good, publicKey: "00" }),
    ];
    for (const b of bad) {
      expect(() => parseKeyFile(b as string), String(b)).toThrow(expect.objectContaining({ code: "BAD_KEY_FILE" }));
    }
  });
});
