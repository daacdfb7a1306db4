// The cipher library of Cairn's utility layer (FG DLT: Utility / cipher libraries).
// Everything exported here is pure JavaScript and runs in browsers; the node's faster
// OpenSSL-backed verification lives in "@cairn/crypto/native".
export { compareBytes, concatBytes, equalBytes, fromHex, toHex, utf8 } from "./bytes.ts";
export {
  generateKeyPair,
  type KeyPair,
  keyPairFromSecret,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  SIGNATURE_LENGTH,
  sign,
  type VerifyItem,
  verify,
} from "./ed25519.ts";
export { CryptoError } from "./errors.ts";
export { HASH_LENGTH, sha256, taggedHash } from "./hash.ts";
export {
  type MerkleProof,
  MerkleTree,
  merkleLeafHash,
  merkleNodeHash,
  merkleProof,
  merkleRoot,
  verifyMerkleProof,
} from "./merkle.ts";
export { prng } from "./prng.ts";
