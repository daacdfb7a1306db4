import type { Validator } from "@cairn/messaging";
import { ConsensusError } from "../commit.ts";

// Beyond this many slots per period the schedule is not precomputed (see below).
const MAX_SCHEDULE = 1 << 16;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * proposer(height, round) for a fixed validator set: a smooth weighted round robin (like CometBFT's
 * proposer priorities), so each validator proposes in proportion to its power
 * and equal validators take turns. One period of the schedule is precomputed; the slot is
 * (height + round) mod period, so a round change hands the turn to the next validator.
 */
export function proposerSchedule(validators: readonly Validator[]): (height: number, round: number) => Validator {
  const active = validators.filter((v) => v.power > 0);
  if (active.length === 0) throw new ConsensusError("NO_VALIDATORS", "the validator set has no voting power");
  const g = active.reduce((acc, v) => gcd(acc, v.power), 0);
  const weights = active.map((v) => v.power / g);
  const total = weights.reduce((s, w) => s + w, 0);
  if (total > MAX_SCHEDULE) {
    // Huge, coprime powers: fall back to proportional slots without interleaving.
    return (height, round) => {
      let slot = (height + round) % total;
      for (let i = 0; i < active.length; i++) {
        slot -= weights[i]!;
        if (slot < 0) return active[i]!;
      }
      return active[active.length - 1]!;
    };
  }
  const schedule: Validator[] = [];
  const current = weights.map(() => 0);
  for (let s = 0; s < total; s++) {
    let best = 0;
    for (let i = 0; i < active.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    schedule.push(active[best]!);
  }
  return (height, round) => schedule[(height + round) % total]!;
}
