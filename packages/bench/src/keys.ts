// Deterministic choices for workloads: a seeded PRNG, and uniform or Zipfian key pickers over a key
// space (YCSB's distributions), so two runs of a workload send the same sequence of keys.

// The same seeded PRNG as the consensus simulation (mulberry32, floats in [0, 1)).
import { prng } from "@cairn/crypto";

export { prng };

/** YCSB's Zipfian constant. */
export const ZIPF_THETA = 0.99;

/**
 * Picks key indices in [0, n): uniformly, or Zipfian with exponent `theta` where the popular keys
 * are scattered over the key space by a seeded permutation (YCSB's "scrambled" Zipfian), so the hot
 * keys are not neighbours.
 */
export function keyPicker(
  n: number,
  distribution: "uniform" | "zipfian",
  random: () => number,
  theta = ZIPF_THETA,
): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError("the key space needs at least one key");
  if (distribution === "uniform") return () => Math.min(n - 1, Math.floor(random() * n));
  // Cumulative distribution of ranks 1..n with weight 1/rank^theta.
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 1 / (i + 1) ** theta;
    cdf[i] = acc;
  }
  for (let i = 0; i < n; i++) cdf[i] = (cdf[i] as number) / acc;
  // Rank -> key: a Fisher-Yates permutation from its own seeded stream.
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const shuffle = prng(0x5eed ^ n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1));
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) >= u) hi = mid;
      else lo = mid + 1;
    }
    return perm[lo] as number;
  };
}

/** The kv key of index i in the key space: "user" + 10 digits, as YCSB names its records. */
export function kvKey(i: number): string {
  return `user${String(i).padStart(10, "0")}`;
}
