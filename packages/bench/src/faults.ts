// Faults injected during a measured phase (BLOCKBENCH's fault tolerance): kill a validator, kill
// the proposer, restart a node, pause one, partition the network; and what they did: throughput
// before, during and after, the time to the next commit, and whether the nodes still agree.
import { proposerSchedule } from "@cairn/consensus";
import { fromHex, toHex } from "@cairn/crypto";
import { sleep } from "./process.ts";
import type { FaultReport } from "./report.ts";
import type { Session } from "./session.ts";

export const FAULT_KINDS = ["kill-validator", "kill-proposer", "restart", "pause", "partition"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

export interface FaultPlan {
  readonly kind: FaultKind;
  /** Seconds into the measured phase. */
  readonly atSec: number;
  /** restart: seconds the node stays down; pause: frozen; partition: cut (default 5). Kills are not healed. */
  readonly durationSec?: number;
  /** Node names it hits (kill-validator, restart, pause; default the last validator). */
  readonly targets?: readonly string[];
  /** partition: the side cut off from the rest (node names; default the second half of the validators). */
  readonly side?: readonly string[];
}

/** What happened, in performance.now() times, for the report. */
export interface FaultRecord {
  readonly plan: FaultPlan;
  readonly targets: string[];
  readonly at: number;
  healedAt?: number;
  /** Highest height any node had committed when the fault was injected / healed. */
  readonly headAtFault: number;
  headAtHeal?: number;
  /** kill-proposer: the height the killed node was due to propose. */
  victimHeight?: number;
  /** Node indices that stop counting for "committed on every validator" from `at` (until they caught up after the heal). */
  readonly affected: number[];
  /** Node indices the load generator must not send to (killed, frozen) right now. */
  readonly down: Set<number>;
  error?: string;
}

/** The side a partition cuts off by default: the second half of the validators (2|2 of 4: neither side has a quorum). */
export function defaultPartitionSide(names: readonly string[]): string[] {
  return names.slice(Math.ceil(names.length / 2));
}

/**
 * Injects `plan` (at the time the caller chose) and, for healed faults, heals it after its
 * duration. Returns as soon as the fault is in place; `done` settles once it is healed.
 */
export async function injectFault(
  session: Session,
  plan: FaultPlan,
  log: (s: string) => void,
): Promise<{ record: FaultRecord; done: Promise<void> }> {
  const target = session.target;
  const names = target.nodes().map((n) => n.name);
  const index = (name: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`fault target ${name} is not a node (nodes: ${names.join(", ")})`);
    return i;
  };
  const capability = {
    "kill-validator": target.capabilities.kill,
    "kill-proposer": target.capabilities.kill,
    restart: target.capabilities.restart,
    pause: target.capabilities.pause,
    partition: target.capabilities.partition,
  }[plan.kind];
  if (capability !== true) throw new Error(`cannot inject ${plan.kind}: ${capability}`);

  let victims = [...(plan.targets ?? [names.at(-1) as string])];
  let victimHeight: number | undefined;
  const raftLeader = plan.kind === "kill-proposer" ? (await session.status()).consensus.raft?.leader : undefined;
  if (raftLeader !== undefined && raftLeader !== null) {
    // Raft: the proposer is the leader, until it dies. The block it was replicating (h + 1) may
    // still commit from the acknowledgements already sent; recovery is to the commit of h + 2,
    // the first height a new leader proposes.
    const victim = [...session.validatorKeys].find(([, k]) => k === raftLeader)?.[0];
    if (victim === undefined)
      throw new Error(`the Raft leader (${raftLeader.slice(0, 16)}…) is not a node of the target`);
    victims = [victim];
    victimHeight = session.maxHeight + 2;
  } else if (plan.kind === "kill-proposer") {
    // Right after a commit of height h, kill the validator due to propose h + 2 in round 0: height
    // h + 1 commits without it, then h + 2 waits for the propose timeout and a new round.
    const seen = session.maxHeight;
    const until = performance.now() + 15_000;
    while (session.maxHeight === seen && performance.now() < until) await sleep(5);
    const h = session.maxHeight;
    const schedule = proposerSchedule(
      session.validators.map((v) => ({ publicKey: fromHex(v.publicKey), power: v.power, name: v.name })),
    );
    const key = toHex(schedule(h + 2, 0).publicKey);
    const victim = [...session.validatorKeys].find(([, k]) => k === key)?.[0];
    if (victim === undefined)
      throw new Error(`the proposer of height ${h + 2} (${key.slice(0, 16)}…) is not a node of the target`);
    victims = [victim];
    victimHeight = h + 2;
  }
  if (plan.kind === "partition") victims = [...(plan.side ?? defaultPartitionSide(names))];
  const idx = victims.map(index);
  const record: FaultRecord = {
    plan,
    targets: victims,
    at: performance.now(),
    headAtFault: session.maxHeight,
    affected: [],
    down: new Set<number>(),
    ...(victimHeight === undefined ? {} : { victimHeight }),
  };
  const durationMs = (plan.durationSec ?? 5) * 1000;
  const healLater = (heal: () => Promise<void>): Promise<void> =>
    (async () => {
      await sleep(durationMs);
      try {
        await heal();
      } catch (e) {
        record.error = `healing ${plan.kind} failed: ${(e as Error).message}`;
        log(record.error);
      }
      record.healedAt = performance.now();
      record.headAtHeal = session.maxHeight;
      log(`${plan.kind} healed (${victims.join(", ")}) at height ${record.headAtHeal}`);
    })();

  let done: Promise<void> = Promise.resolve();
  switch (plan.kind) {
    case "kill-validator":
    case "kill-proposer":
      for (const i of idx) record.down.add(i);
      record.affected.push(...idx);
      await Promise.all(victims.map((v) => target.kill(v)));
      break;
    case "restart":
      for (const i of idx) record.down.add(i);
      record.affected.push(...idx);
      await Promise.all(victims.map((v) => target.kill(v)));
      done = healLater(async () => {
        await Promise.all(victims.map((v) => target.restart(v)));
        for (const i of idx) record.down.delete(i);
      });
      break;
    case "pause":
      for (const i of idx) record.down.add(i);
      record.affected.push(...idx);
      await Promise.all(victims.map((v) => target.pause(v)));
      done = healLater(async () => {
        await Promise.all(victims.map((v) => target.resume(v)));
        for (const i of idx) record.down.delete(i);
      });
      break;
    case "partition": {
      const rest = names.filter((n) => !victims.includes(n));
      // The side with fewer nodes falls behind; with equal sides neither commits.
      record.affected.push(...(victims.length <= rest.length ? idx : rest.map(index)));
      await target.partition([rest, victims]);
      done = healLater(() => target.heal());
      break;
    }
  }
  log(
    `${plan.kind}: ${victims.join(", ")} at height ${record.headAtFault}${
      victimHeight === undefined ? "" : ` (due to propose height ${victimHeight})`
    }`,
  );
  return { record, done };
}

/** Throughput figures of the windows around a fault, from the first-commit times of the round's OK transactions. */
export function faultReport(
  session: Session,
  r: FaultRecord,
  okCommitTimes: Float64Array,
  t0: number,
  t1: number,
): FaultReport {
  const rate = (from: number, to: number) => {
    if (to - from < 100) return Number.NaN;
    let n = 0;
    for (const t of okCommitTimes) if (t >= from && t < to) n++;
    return Math.round((n / ((to - from) / 1000)) * 10) / 10;
  };
  const nodes = session.target.nodes().length;
  /** Earliest commit event on any node after `t` of a height above `h` (at least `minHeight`). */
  const nextCommit = (t: number, h: number, minHeight = 0): number | undefined => {
    let best: number | undefined;
    for (let i = 0; i < nodes; i++) {
      for (const [height, c] of session.commitsOf(i)) {
        if (c.at > t && height > h && height >= minHeight && (best === undefined || c.at < best)) best = c.at;
      }
    }
    return best;
  };
  const healed = r.healedAt !== undefined && r.healedAt < t1 ? r.healedAt : undefined;
  let recoveryAt: number | undefined;
  if (r.plan.kind === "kill-proposer") recoveryAt = nextCommit(r.at, r.headAtFault, r.victimHeight ?? 0);
  else if (r.plan.kind === "partition" && r.healedAt !== undefined) {
    recoveryAt = nextCommit(r.healedAt, r.headAtHeal ?? r.headAtFault);
  } else recoveryAt = nextCommit(r.at, r.headAtFault);
  const fromHeal = r.plan.kind === "partition" && r.healedAt !== undefined;
  const base = fromHeal ? (r.healedAt as number) : r.at;
  const sec = (x: number) => Math.round(x / 10) / 100;
  const forks = session.forks();
  return {
    kind: r.plan.kind,
    targets: r.targets,
    at: sec(r.at - t0),
    ...(r.healedAt === undefined ? {} : { healedAt: sec(r.healedAt - t0) }),
    throughputBefore: rate(t0, Math.min(r.at, t1)),
    throughputDuring: rate(r.at, healed ?? t1),
    ...(healed === undefined ? {} : { throughputAfter: rate(healed, t1) }),
    recoverySec: recoveryAt === undefined ? null : sec(recoveryAt - base),
    recoveryFrom: fromHeal ? "heal" : "fault",
    ...(r.healedAt === undefined || r.affected.length === 0
      ? {}
      : {
          caughtUpSec: (() => {
            const at = Math.max(...r.affected.map((i) => caughtUpAt(session, i, r)));
            return Number.isFinite(at) ? sec(at - (r.healedAt as number)) : null;
          })(),
        }),
    ...(r.victimHeight === undefined ? {} : { victimHeight: r.victimHeight }),
    ...(r.error === undefined ? {} : { error: r.error }),
    safe: forks.length === 0,
  };
}

/** When node i had caught up after the heal: the time it committed the head height of the heal (Infinity if never). */
export function caughtUpAt(session: Session, i: number, r: FaultRecord): number {
  if (r.healedAt === undefined) return Number.POSITIVE_INFINITY;
  const head = r.headAtHeal ?? 0;
  let at = Number.POSITIVE_INFINITY;
  for (const [height, c] of session.commitsOf(i)) if (height >= head && c.at >= r.at && c.at < at) at = c.at;
  return at;
}
