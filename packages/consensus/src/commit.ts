import { equalBytes, toHex } from "@cairn/crypto";
import {
  type Commit,
  type ConsensusKind,
  certificateQuorum,
  certificateSigningBytes,
  type Validator,
} from "@cairn/messaging";
import type { Signer } from "./types.ts";

export class ConsensusError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ConsensusError";
    this.code = code;
  }
}

/**
 * A write an engine's safety depends on failed (its safety record, its log, a block): the engine
 * halts rather than go on half-working.
 */
export class StorageFailure extends Error {
  constructor(cause: unknown) {
    super(`storage failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "StorageFailure";
  }
}

/** Voting power needed to commit: more than two thirds of the total (Raft: more than half). */
export function quorumPower(validators: readonly Validator[], kind: ConsensusKind = "tendermint"): number {
  return certificateQuorum(
    kind,
    validators.reduce((s, v) => s + v.power, 0),
  );
}

export type VerifyFn = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** A signature check that remembers valid signatures, and the signer whose signatures it trusts. */
export interface SignatureMemory {
  /** The check, answered from memory for a signature found valid (or made by `signing`) before. */
  readonly verify: VerifyFn;
  /** `signer`, each of whose signatures is remembered as valid as it is made. */
  signing(signer: Signer): Signer;
}

/**
 * `verify`, remembering the last `size` signatures it found valid, and those this node made.
 * Each proposal carries its parent's commit certificate, whose precommits a validator already
 * checked as they arrived, except its own, which it made: on an empty chain those repeat checks
 * were a fifth of its main thread's signature work. Only the same signature over the same message
 * by the same key, byte for byte, is answered from memory, so every answer is the one the check
 * would give (an own signature: the signer's, which made it for that key); failures are not
 * remembered.
 */
export function signatureMemory(verify: VerifyFn, size = 1024): SignatureMemory {
  const valid = new Map<string, { readonly message: Uint8Array; readonly publicKey: Uint8Array }>();
  // Keyed by the signature's hex; a key already held is replaced, not counted against `size`.
  const remember = (key: string, message: Uint8Array, publicKey: Uint8Array) => {
    if (!valid.has(key) && valid.size >= size) valid.delete(valid.keys().next().value as string);
    // Copies: the callers' buffers are not this memory's.
    valid.set(key, { message: message.slice(), publicKey: publicKey.slice() });
  };
  return {
    verify: (signature, message, publicKey) => {
      const key = toHex(signature);
      const seen = valid.get(key);
      if (seen !== undefined && equalBytes(seen.message, message) && equalBytes(seen.publicKey, publicKey)) {
        return true;
      }
      if (!verify(signature, message, publicKey)) return false;
      remember(key, message, publicKey);
      return true;
    },
    signing: (signer) => ({
      publicKey: signer.publicKey,
      sign: (message) => {
        const signature = signer.sign(message);
        remember(toHex(signature), message, signer.publicKey);
        return signature;
      },
    }),
  };
}

/**
 * Checks a commit certificate from the validator set alone: every signature is a valid precommit
 * (Raft: acknowledgement) of `blockHash` at the commit's height and round (term) by a distinct
 * member of the set, and together they hold more than two thirds (Raft: half) of the voting power.
 * Throws BAD_COMMIT saying what is wrong.
 */
export function verifyCommit(
  chainId: string,
  commit: Commit,
  blockHash: Uint8Array,
  validators: readonly Validator[],
  verify: VerifyFn,
  kind: ConsensusKind = "tendermint",
): void {
  const power = signedPower(chainId, commit, blockHash, validators, verify, kind, "refuse");
  const need = quorumPower(validators, kind);
  if (power < need) throw new ConsensusError("BAD_COMMIT", `certificate holds power ${power}, needs ${need}`);
}

/**
 * The voting power of `validators` whose valid signatures over `blockHash` the certificate holds,
 * each counted once. Signers outside the set are refused (BAD_COMMIT), or ignored when checking
 * against an earlier set; a bad signature from a member, or a member signing twice when refusing,
 * is BAD_COMMIT.
 */
function signedPower(
  chainId: string,
  commit: Commit,
  blockHash: Uint8Array,
  validators: readonly Validator[],
  verify: VerifyFn,
  kind: ConsensusKind,
  outsiders: "refuse" | "ignore",
): number {
  if (!equalBytes(commit.blockHash, blockHash))
    throw new ConsensusError("BAD_COMMIT", "certificate is for another block");
  const byKey = new Map(validators.map((v) => [toHex(v.publicKey), v]));
  const message = certificateSigningBytes(kind, { chainId, height: commit.height, round: commit.round, blockHash });
  const seen = new Set<string>();
  let power = 0;
  for (const s of commit.signatures) {
    const k = toHex(s.validator);
    const v = byKey.get(k);
    if (v === undefined) {
      if (outsiders === "ignore") continue;
      throw new ConsensusError("BAD_COMMIT", `signer ${k} is not a validator`);
    }
    if (seen.has(k)) {
      if (outsiders === "ignore") continue;
      throw new ConsensusError("BAD_COMMIT", `validator ${k} signed twice`);
    }
    if (!verify(s.signature, message, s.validator)) throw new ConsensusError("BAD_COMMIT", `bad signature from ${k}`);
    seen.add(k);
    power += v.power;
  }
  return power;
}

/**
 * The light client's check of a header far from the last one it trusted (state sync): valid
 * signatures over `blockHash` from members of an earlier, trusted validator set (the genesis set)
 * holding more than a third of that set's power. Fewer than a third of a set being faulty, at
 * least one honest validator of it vouches for the block. Signers outside the trusted set are
 * ignored (the set may have changed since). Throws BAD_COMMIT.
 */
export function verifyCommitTrusting(
  chainId: string,
  commit: Commit,
  blockHash: Uint8Array,
  trusted: readonly Validator[],
  verify: VerifyFn,
  kind: ConsensusKind = "tendermint",
): void {
  const power = signedPower(chainId, commit, blockHash, trusted, verify, kind, "ignore");
  const total = trusted.reduce((sum, v) => sum + v.power, 0);
  if (power * 3 <= total) {
    throw new ConsensusError(
      "BAD_COMMIT",
      `validators trusted from genesis holding ${power} of ${total} power signed; more than a third is needed`,
    );
  }
}
