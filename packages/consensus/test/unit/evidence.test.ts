import { generateKeyPair, sha256, utf8 } from "@cairn/crypto";
import { createNativeSigner, nativeVerify } from "@cairn/crypto/native";
import { VoteType } from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import { decodeEvidence, encodeEvidence, evidenceId, signVote, verifyEvidence } from "../../src/index.ts";

const CHAIN = "evidence-test";

function equivocation() {
  const k = generateKeyPair();
  const signer = createNativeSigner(k.secretKey, k.publicKey);
  const vote = (block: string) =>
    signVote(CHAIN, signer, { type: VoteType.precommit, height: 7, round: 2, blockHash: sha256(utf8.encode(block)) });
  return { first: vote("a"), second: vote("b"), signer };
}

describe("equivocation evidence", () => {
  it("round-trips through its canonical encoding and verifies from the validator's key alone", () => {
    const e = equivocation();
    const back = decodeEvidence(encodeEvidence(e));
    expect(back).toEqual({ first: e.first, second: e.second });
    expect(verifyEvidence(CHAIN, back, nativeVerify)).toBe(true);
    expect(evidenceId(back)).toBe(evidenceId(e));
  });

  it("is not evidence when the votes agree, differ in height/round/type/validator, or a signature is bad", () => {
    const e = equivocation();
    const other = equivocation();
    expect(verifyEvidence(CHAIN, { first: e.first, second: e.first }, nativeVerify)).toBe(false);
    expect(verifyEvidence(CHAIN, { first: e.first, second: other.second }, nativeVerify)).toBe(false);
    expect(verifyEvidence(CHAIN, { first: e.first, second: { ...e.second, round: 3 } }, nativeVerify)).toBe(false);
    expect(
      verifyEvidence(CHAIN, { first: e.first, second: { ...e.second, type: VoteType.prevote } }, nativeVerify),
    ).toBe(false);
    const forged = { ...e.second, signature: e.first.signature };
    expect(verifyEvidence(CHAIN, { first: e.first, second: forged }, nativeVerify)).toBe(false);
    expect(verifyEvidence("another-chain", e, nativeVerify)).toBe(false);
  });

  it("rejects malformed bytes with a typed error", () => {
    expect(() => decodeEvidence(new Uint8Array([0x91, 0x01]))).toThrow(/evidence/);
  });
});
