import { ed25519 } from "@noble/curves/ed25519.js";
import { CryptoError } from "./errors.ts";

export const PUBLIC_KEY_LENGTH = 32;
export const SECRET_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** An Ed25519 key pair (RFC 8032). The secret key is the 32-byte seed. */
export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== SECRET_KEY_LENGTH) {
    throw new CryptoError(
      "BAD_SECRET_KEY",
      `an Ed25519 secret key is ${SECRET_KEY_LENGTH} bytes, got ${secretKey.length}`,
    );
  }
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** Signs with @noble/curves: deterministic, so the same key and message always give the same signature. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/** One signature check: the public key, the exact signed bytes, and the signature (a batch verifier's item). */
export interface VerifyItem {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Verifies with @noble/curves under RFC 8032's strict rules (zip215 off), the same rules as
 * OpenSSL, so a signature the browser SDK accepts is one every node accepts and vice versa.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
