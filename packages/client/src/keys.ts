import {
  equalBytes,
  generateKeyPair,
  type KeyPair,
  keyPairFromSecret,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  toHex,
} from "@cairn/crypto";
import { bytesOf } from "./bytes.ts";
import { CairnClientError } from "./errors.ts";

export type { KeyPair };

/** The JSON key file the CLI reads and writes. `secretKey` is the 32-byte Ed25519 seed. */
export interface KeyFile {
  readonly type: "ed25519";
  readonly publicKey: string;
  readonly secretKey: string;
}

/** A new random Ed25519 key pair; the public key is the account address. */
export function generateKey(): KeyPair {
  return generateKeyPair();
}

/** The key pair of a 32-byte secret key (seed), given as bytes or hex. */
export function keyFromSecret(secret: Uint8Array | string): KeyPair {
  return keyPairFromSecret(bytesOf(secret, "secret key", SECRET_KEY_LENGTH));
}

/** The key file's JSON text (with a trailing newline, ready to write). */
export function encodeKeyFile(key: KeyPair): string {
  const file: KeyFile = { type: "ed25519", publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Reads a key file (its text or the parsed object) and checks the public key matches the secret. */
export function parseKeyFile(input: string | KeyFile): KeyPair {
  let file: unknown = input;
  if (typeof input === "string") {
    try {
      file = JSON.parse(input);
    } catch {
      throw new CairnClientError("BAD_KEY_FILE", "key file is not valid JSON");
    }
  }
  const f = file as Partial<KeyFile> | null;
  if (f === null || typeof f !== "object" || f.type !== "ed25519") {
    throw new CairnClientError("BAD_KEY_FILE", 'key file must have type "ed25519"');
  }
  if (typeof f.secretKey !== "string" || typeof f.publicKey !== "string") {
    throw new CairnClientError("BAD_KEY_FILE", "key file needs publicKey and secretKey as hex");
  }
  let key: KeyPair;
  let pub: Uint8Array;
  try {
    key = keyFromSecret(f.secretKey);
    pub = bytesOf(f.publicKey, "publicKey", PUBLIC_KEY_LENGTH);
  } catch (err) {
    throw new CairnClientError("BAD_KEY_FILE", `key file: ${(err as Error).message}`);
  }
  if (!equalBytes(pub, key.publicKey)) {
    throw new CairnClientError("BAD_KEY_FILE", "key file's publicKey does not belong to its secretKey");
  }
  return key;
}
