import { randomUUID } from "node:crypto";
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PeerId, PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { NetworkError } from "./errors.ts";

// The key file is JSON so an operator can read the peer id without tools:
//   { "type": "cairn-libp2p-key", "keyType": "Ed25519", "peerId": "12D3Koo...", "privateKey": "<base64 protobuf>" }
// `privateKey` is libp2p's protobuf encoding (the format `privateKeyFromProtobuf` reads).

const FILE_TYPE = "cairn-libp2p-key";

interface KeyFileJson {
  readonly type: string;
  readonly keyType: string;
  readonly peerId: string;
  readonly privateKey: string;
}

/** Reads the libp2p private key at `path`, or creates an Ed25519 key there (mode 600) when the file is absent. */
export async function loadOrCreatePeerKey(path: string): Promise<PrivateKey> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new NetworkError("NETWORK_BAD_KEY_FILE", `cannot read key file ${path}`, { cause: err });
    }
    const key = await generateKeyPair("Ed25519");
    const json: KeyFileJson = {
      type: FILE_TYPE,
      keyType: "Ed25519",
      peerId: peerIdFromPrivateKey(key).toString(),
      privateKey: Buffer.from(privateKeyToProtobuf(key)).toString("base64"),
    };
    await mkdir(dirname(path), { recursive: true });
    // Written beside the target, then linked into place: a crash never leaves a half-written key,
    // and if another process created the file meanwhile, its key wins (link fails with EEXIST).
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag: "wx" });
      await chmod(tmp, 0o600);
    } catch (writeErr) {
      await unlink(tmp).catch(() => {});
      throw new NetworkError("NETWORK_BAD_KEY_FILE", `cannot write key file ${path}`, { cause: writeErr });
    }
    try {
      await link(tmp, path);
      return key;
    } catch (linkErr) {
      if ((linkErr as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new NetworkError("NETWORK_BAD_KEY_FILE", `cannot write key file ${path}`, { cause: linkErr });
      }
      text = await readFile(path, "utf8");
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }
  return parseKeyFile(text, path);
}

/** The peer id of the key stored at `path` (the file must exist). */
export async function peerIdFromKeyFile(path: string): Promise<PeerId> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new NetworkError("NETWORK_BAD_KEY_FILE", `cannot read key file ${path}`, { cause: err });
  }
  return peerIdFromPrivateKey(parseKeyFile(text, path));
}

/** True when the key file can be read by group or others (callers may warn). */
export async function isKeyFileExposed(path: string): Promise<boolean> {
  const s = await stat(path);
  return (s.mode & 0o077) !== 0;
}

function parseKeyFile(text: string, path: string): PrivateKey {
  let json: Partial<KeyFileJson>;
  try {
    json = JSON.parse(text) as Partial<KeyFileJson>;
  } catch (err) {
    throw new NetworkError("NETWORK_BAD_KEY_FILE", `key file ${path} is not JSON`, { cause: err });
  }
  if (json.type !== FILE_TYPE || typeof json.privateKey !== "string") {
    throw new NetworkError("NETWORK_BAD_KEY_FILE", `key file ${path} is not a ${FILE_TYPE} file`);
  }
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(Buffer.from(json.privateKey, "base64"));
  } catch (err) {
    throw new NetworkError("NETWORK_BAD_KEY_FILE", `key file ${path} holds no valid libp2p key`, { cause: err });
  }
  if (key.type !== "Ed25519") {
    throw new NetworkError("NETWORK_BAD_KEY_FILE", `key file ${path} holds a ${key.type} key, expected Ed25519`);
  }
  if (json.peerId !== undefined && json.peerId !== peerIdFromPrivateKey(key).toString()) {
    throw new NetworkError("NETWORK_BAD_KEY_FILE", `key file ${path}: peerId does not match the key`);
  }
  return key;
}
