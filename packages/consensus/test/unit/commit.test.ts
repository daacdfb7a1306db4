import { generateKeyPair, sign, verify } from "@cairn/crypto";
import { type Commit, type Validator, VoteType, voteSigningBytes } from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import { signatureMemory } from "../../src/commit.ts";
import { ConsensusError, quorumPower, verifyCommit, verifyCommitTrusting } from "../../src/index.ts";

const keys = Array.from({ length: 4 }, () => generateKeyPair());
const validators: Validator[] = keys.map((k, i) => ({ publicKey: k.publicKey, power: 1, name: `v${i}` }));
const blockHash = new Uint8Array(32).fill(7);

function commitBy(signers: number[], opts: { round?: number; hash?: Uint8Array; type?: number } = {}): Commit {
  const round = opts.round ?? 0;
  const msg = voteSigningBytes({
    chainId: "c",
    height: 5,
    round,
    type: (opts.type ?? VoteType.precommit) as VoteType,
    blockHash: opts.hash ?? blockHash,
  });
  return {
    height: 5,
    round,
    blockHash,
    signatures: signers.map((i) => ({ validator: keys[i]!.publicKey, signature: sign(msg, keys[i]!.secretKey) })),
  };
}

const check = (c: Commit) => () => verifyCommit("c", c, blockHash, validators, verify);

describe("commit certificates", () => {
  it("needs more than two thirds of the power", () => {
    expect(quorumPower(validators)).toBe(3);
    expect(quorumPower([{ ...validators[0]!, power: 1 }])).toBe(1);
    expect(check(commitBy([0, 1, 2]))).not.toThrow();
    expect(check(commitBy([0, 1]))).toThrow(/needs 3/);
  });

  it("rejects duplicates, outsiders, prevotes and signatures over another block", () => {
    expect(check(commitBy([0, 0, 1]))).toThrow(/twice/);
    const outsider = generateKeyPair();
    const c = commitBy([0, 1, 2]);
    const withOutsider = {
      ...c,
      signatures: [...c.signatures, { validator: outsider.publicKey, signature: c.signatures[0]!.signature }],
    };
    expect(check(withOutsider)).toThrow(/not a validator/);
    expect(check(commitBy([0, 1, 2], { type: VoteType.prevote }))).toThrow(ConsensusError);
    expect(check(commitBy([0, 1, 2], { hash: new Uint8Array(32) }))).toThrow(/bad signature/);
    expect(() => verifyCommit("c", c, new Uint8Array(32), validators, verify)).toThrow(/another block/);
  });

  it("trusting an earlier set (state sync): more than a third of its power, newcomers ignored", () => {
    // The trusted (genesis) set is validators 0..2; validator 3 joined later.
    const trusted = validators.slice(0, 3);
    const trusting = (c: Commit) => () => verifyCommitTrusting("c", c, blockHash, trusted, verify);
    expect(trusting(commitBy([0, 3]))).toThrow(/1 of 3 power/);
    expect(trusting(commitBy([0, 1, 3]))).not.toThrow();
    expect(trusting(commitBy([3]))).toThrow(/0 of 3 power/);
    // A signer counted once, however often it appears; a bad signature by a trusted key still fails.
    expect(trusting(commitBy([1, 1, 3]))).toThrow(/1 of 3 power/);
    expect(trusting(commitBy([0, 1], { hash: new Uint8Array(32) }))).toThrow(/bad signature/);
    expect(() => verifyCommitTrusting("c", commitBy([0, 1]), new Uint8Array(32), trusted, verify)).toThrow(
      /another block/,
    );
  });
});

describe("signatureMemory", () => {
  const msg = voteSigningBytes({ chainId: "c", height: 5, round: 0, type: VoteType.precommit, blockHash });
  const sig = sign(msg, keys[0]!.secretKey);
  const counting = () => {
    const calls = { n: 0 };
    const fn = (s: Uint8Array, m: Uint8Array, k: Uint8Array) => {
      calls.n++;
      return verify(s, m, k);
    };
    return { calls, fn };
  };

  it("answers a signature it found valid from memory: a parent certificate's precommits are not checked twice", () => {
    const { calls, fn } = counting();
    const v = signatureMemory(fn).verify;
    expect(v(sig, msg, keys[0]!.publicKey)).toBe(true);
    expect(v(sig, msg, keys[0]!.publicKey)).toBe(true);
    expect(calls.n).toBe(1);
    // A certificate of those precommits checks with no further verification.
    const c: Commit = { height: 5, round: 0, blockHash, signatures: [] };
    const signed = [0, 1, 2].map((i) => ({ validator: keys[i]!.publicKey, signature: sign(msg, keys[i]!.secretKey) }));
    for (const s of signed) v(s.signature, msg, s.validator);
    const before = calls.n;
    verifyCommit("c", { ...c, signatures: signed }, blockHash, validators, v);
    expect(calls.n).toBe(before);
  });

  it("checks again whenever the message, the key or the signature differ, and never remembers a failure", () => {
    const { calls, fn } = counting();
    const v = signatureMemory(fn).verify;
    expect(v(sig, msg, keys[0]!.publicKey)).toBe(true);
    const other = msg.slice();
    other[other.length - 1] = (other[other.length - 1] as number) ^ 1;
    expect(v(sig, other, keys[0]!.publicKey)).toBe(false);
    expect(v(sig, msg, keys[1]!.publicKey)).toBe(false);
    const bad = sig.slice();
    bad[0] = (bad[0] as number) ^ 1;
    expect(v(bad, msg, keys[0]!.publicKey)).toBe(false);
    expect(v(bad, msg, keys[0]!.publicKey)).toBe(false);
    expect(calls.n).toBe(5);
  });

  it("knows the signatures its signer made: a validator's own precommit in a certificate costs no check", () => {
    const { calls, fn } = counting();
    const memory = signatureMemory(fn);
    const key = keys[0]!;
    const signer = memory.signing({ publicKey: key.publicKey, sign: (m) => sign(m, key.secretKey) });
    expect(signer.publicKey).toEqual(key.publicKey);
    const own = signer.sign(msg);
    expect(own).toEqual(sig);
    expect(memory.verify(own, msg, key.publicKey)).toBe(true);
    expect(calls.n).toBe(0);
    // Only for the message it signed and the signer's key.
    const other = msg.slice();
    other[other.length - 1] = (other[other.length - 1] as number) ^ 1;
    expect(memory.verify(own, other, key.publicKey)).toBe(false);
    expect(memory.verify(own, msg, keys[1]!.publicKey)).toBe(false);
    expect(calls.n).toBe(2);
    // A certificate of its own precommit and two it checked on arrival: no check at all.
    const signed = [1, 2].map((i) => ({ validator: keys[i]!.publicKey, signature: sign(msg, keys[i]!.secretKey) }));
    for (const s of signed) memory.verify(s.signature, msg, s.validator);
    const before = calls.n;
    const c: Commit = {
      height: 5,
      round: 0,
      blockHash,
      signatures: [{ validator: key.publicKey, signature: own }, ...signed],
    };
    verifyCommit("c", c, blockHash, validators, memory.verify);
    expect(calls.n).toBe(before);
  });

  it("keeps only the last `size` signatures", () => {
    const { calls, fn } = counting();
    const v = signatureMemory(fn, 2).verify;
    const sigs = [0, 1, 2].map((i) => sign(msg, keys[i]!.secretKey));
    for (const [i, s] of sigs.entries()) v(s, msg, keys[i]!.publicKey);
    expect(calls.n).toBe(3);
    v(sigs[2]!, msg, keys[2]!.publicKey); // remembered
    v(sigs[0]!, msg, keys[0]!.publicKey); // forgotten: checked again
    expect(calls.n).toBe(4);
  });
});
