/** Timeouts of the BFT engine: each step waits `base + round × delta` ms, so rounds grow until they fit the network. */
export interface TendermintOptions {
  readonly timeoutPropose: number;
  readonly timeoutProposeDelta: number;
  readonly timeoutPrevote: number;
  readonly timeoutPrevoteDelta: number;
  readonly timeoutPrecommit: number;
  readonly timeoutPrecommitDelta: number;
  /**
   * Messages for rounds further than this ahead of this node's round are refused: it bounds what a
   * Byzantine validator can make a node store, yet honest rounds never drift that far apart
   * (round r waits about r × 1.5 s, so 1000 rounds take more than a week).
   */
  readonly maxRoundsAhead: number;
  /** Messages up to this many heights ahead are kept until this node gets there. */
  readonly futureHeights: number;
  /** At most this many such messages are kept; later ones are dropped. */
  readonly maxFutureMessages: number;
}

export const defaultTendermintOptions: TendermintOptions = {
  timeoutPropose: 1000,
  timeoutProposeDelta: 500,
  timeoutPrevote: 500,
  timeoutPrevoteDelta: 500,
  timeoutPrecommit: 500,
  timeoutPrecommitDelta: 500,
  maxRoundsAhead: 1000,
  futureHeights: 4,
  maxFutureMessages: 10_000,
};

/** How long `step` of round `round` waits (ms): base + round × delta. */
export function stepTimeoutMs(
  opts: TendermintOptions,
  step: "propose" | "prevote" | "precommit",
  round: number,
): number {
  if (step === "propose") return opts.timeoutPropose + round * opts.timeoutProposeDelta;
  if (step === "prevote") return opts.timeoutPrevote + round * opts.timeoutPrevoteDelta;
  return opts.timeoutPrecommit + round * opts.timeoutPrecommitDelta;
}
