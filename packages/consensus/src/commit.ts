import { equalBytes, toHex } from "@cairn/crypto";
import { type Commit, type Validator, VoteType, voteSigningBytes } from "@cairn/messaging";

export class ConsensusError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ConsensusError";
    this.code = code;
  }
}

/** Voting power needed to commit: more than two thirds of the total. */
export function quorumPower(validators: readonly Validator[]): number {
  const total = validators.reduce((s, v) => s + v.power, 0);
  return Math.floor((total * 2) / 3) + 1;
}

export type VerifyFn = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * Checks a commit certificate from the validator set alone: every signature is a valid precommit
 * for `blockHash` at the commit's height and round by a distinct member of the set, and together
 * they hold more than two thirds of the voting power. Throws BAD_COMMIT saying what is wrong.
 */
export function verifyCommit(
  chainId: string,
  commit: Commit,
  blockHash: Uint8Array,
  validators: readonly Validator[],
  verify: VerifyFn,
): void {
  if (!equalBytes(commit.blockHash, blockHash))
    throw new ConsensusError("BAD_COMMIT", "certificate is for another block");
  const byKey = new Map(validators.map((v) => [toHex(v.publicKey), v]));
  const message = voteSigningBytes({
    chainId,
    height: commit.height,
    round: commit.round,
    type: VoteType.precommit,
    blockHash,
  });
  const seen = new Set<string>();
  let power = 0;
  for (const s of commit.signatures) {
    const k = toHex(s.validator);
    const v = byKey.get(k);
    if (v === undefined) throw new ConsensusError("BAD_COMMIT", `signer ${k} is not a validator`);
    if (seen.has(k)) throw new ConsensusError("BAD_COMMIT", `validator ${k} signed twice`);
    if (!verify(s.signature, message, s.validator)) throw new ConsensusError("BAD_COMMIT", `bad signature from ${k}`);
    seen.add(k);
    power += v.power;
  }
  const need = quorumPower(validators);
  if (power < need) throw new ConsensusError("BAD_COMMIT", `certificate holds power ${power}, needs ${need}`);
}
