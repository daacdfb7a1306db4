import { equalBytes, toHex } from "@cairn/crypto";
import { asArray, decode, encode } from "@cairn/messaging";
import type { VerifyFn } from "../commit.ts";
import { voteBytes, voteFromValue, voteToValue } from "./messages.ts";
import type { Evidence } from "./vote-set.ts";

// Equivocation evidence as stored and served: the two conflicting votes, each with its signature,
// so anyone holding the validator set can check it without trusting the node that kept it.

export function encodeEvidence(e: Evidence): Uint8Array {
  return encode([voteToValue(e.first), voteToValue(e.second)]);
}

export function decodeEvidence(bytes: Uint8Array): Evidence {
  const f = asArray(decode(bytes), "evidence", 2);
  return { first: voteFromValue(f[0]!), second: voteFromValue(f[1]!) };
}

/** The key evidence is filed under: one piece per validator, height, round and vote type. */
export function evidenceId(e: Evidence): string {
  const v = e.first;
  return `${v.height}/${v.round}/${v.type}/${toHex(v.validator)}`;
}

/**
 * True when `e` proves an equivocation on `chainId`: two votes by one validator for the same
 * height, round and type, for different blocks, both signed by that validator.
 */
export function verifyEvidence(chainId: string, e: Evidence, verify: VerifyFn): boolean {
  const { first: a, second: b } = e;
  if (!equalBytes(a.validator, b.validator)) return false;
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type) return false;
  if (equalBytes(a.blockHash, b.blockHash)) return false;
  return [a, b].every((v) => verify(v.signature, voteBytes(chainId, v), v.validator));
}
