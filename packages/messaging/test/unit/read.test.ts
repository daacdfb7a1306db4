// The signed-read message: the worked example of docs/api.md ("Signed reads") byte for byte.
import { keyPairFromSecret, sign, toHex, verify } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import { READ_SIGN_DOMAIN, readBodyHash, readSigningBytes } from "../../src/index.ts";

describe("readSigningBytes", () => {
  it("matches the documented example", () => {
    const key = keyPairFromSecret(new Uint8Array(32).fill(7));
    expect(toHex(key.publicKey)).toBe("ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c");
    const bodyHash = readBodyHash(undefined);
    expect(toHex(bodyHash)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const message = readSigningBytes({
      chainId: "cairn-demo",
      method: "GET",
      target: "/blocks/5?txs=full",
      time: 1767225600000,
      bodyHash,
    });
    expect(toHex(READ_SIGN_DOMAIN)).toBe("434149524e5f524541445f563100");
    expect(toHex(message)).toBe(
      "434149524e5f524541445f563100" +
        "95aa636169726e2d64656d6fa3474554b22f626c6f636b732f353f7478733d66756c6c" +
        "cf0000019b76daa800c420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    const signature = sign(message, key.secretKey);
    expect(toHex(signature)).toBe(
      "36633e85b85967e75eacc0da22511b55461ddea18d951305eee2ff2c9f8197ed" +
        "91d2e4c26a38be0e5fdfec88b69d2296ca8802179dccebcf584fd96197f4df0e",
    );
    expect(verify(signature, message, key.publicKey)).toBe(true);
  });
});
