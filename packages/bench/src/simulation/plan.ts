// What a benchmark run simulates (`cairn bench --simulate`, and the standard suite): each engine
// at each size over each latency model, then the simulated figures set beside the measured
// saturation rounds of the same engine, size and network, so a reader sees how far to trust them.
import { readFileSync } from "node:fs";
import { THREE_REGIONS_FILE } from "../network/files.ts";
import type { RoundResult, SimulationComparison, SimulationReport } from "../report.ts";
import { type LatencyModel, MESH_DEGREE, modelLabel } from "./network.ts";
import { simulateConsensus } from "./scale.ts";

export interface SimulationPlan {
  readonly sizes: readonly number[];
  readonly engines: readonly ("tendermint" | "raft")[];
  readonly models: readonly LatencyModel[];
  /** Blocks measured per point (default 20). */
  readonly blocks?: number;
}

/** The loopback of a local cluster, as the model sees it: a tenth of a millisecond each way. */
export const LOOPBACK_MODEL: LatencyModel = { kind: "uniform", latencyMs: 0.1 };

/** The regions of benchmarks/networks/three-regions.json as a model for any n (validator i in region i mod 3). */
export function threeRegionsModel(): LatencyModel {
  const file = JSON.parse(readFileSync(THREE_REGIONS_FILE, "utf8")) as {
    regions: Record<string, unknown>;
    latency: Record<string, number>;
    within?: number;
  };
  return { kind: "regions", regions: Object.keys(file.regions), latency: file.latency, within: file.within ?? 0 };
}

/** What the standard and wan suites simulate: both engines, 4 to 100 validators, loopback, 50 ms and three regions. */
export function defaultSimulation(): SimulationPlan {
  return {
    sizes: [4, 7, 10, 16, 25, 50, 100],
    engines: ["tendermint", "raft"],
    models: [LOOPBACK_MODEL, { kind: "uniform", latencyMs: 50 }, threeRegionsModel()],
  };
}

export const SIMULATION_METHOD = `Simulation, not measurement: n instances of Cairn's own Tendermint and Raft state machines (@cairn/consensus, the code the nodes run) on a virtual clock, deciding blocks back to back with 1 KiB block bodies. The network is modelled: one-way delays between validators (uniform, or regions with validator i in region i mod 3), gossip over a mesh of ${MESH_DEGREE} peers per validator (complete up to ${MESH_DEGREE + 1} validators) where every validator forwards each new message once to its mesh peers, 0.2 ms per relay hop, 1 Gbit/s links; each validator checks the messages it receives one at a time at 0.15 ms each (a native Ed25519 verification). Not modelled: transaction execution, storage, mempool and gossip of transactions, the rest of a node's CPU, packet loss. "Messages" are the consensus messages the validators broadcast (what cairn_consensus_messages_total{direction="sent"} counts); "transmissions" and bytes count every gossip hop. Commit latency runs from a block's first proposal to its commit on every validator.`;

/** Runs the plan, and compares it with the measured closed-loop rounds that match a simulated point. */
export function runSimulation(
  plan: SimulationPlan,
  rounds: readonly RoundResult[],
  log?: (s: string) => void,
): SimulationReport {
  const t0 = performance.now();
  const points = [];
  for (const model of plan.models) {
    for (const engine of plan.engines) {
      for (const n of plan.sizes) {
        const p = simulateConsensus({
          engine,
          validators: n,
          model,
          ...(plan.blocks === undefined ? {} : { blocks: plan.blocks }),
        });
        points.push(p);
        log?.(
          `simulation: ${engine} on ${n} validators, ${p.model}: ${p.commitLatencyMs.mean} ms to commit, ${p.messagesPerBlock} messages per block`,
        );
      }
    }
  }
  const comparisons: SimulationComparison[] = [];
  for (const r of rounds) {
    if (r.mode !== "closed" || r.faults.length > 0) continue;
    const n = r.network;
    // Only the networks the simulation models the same way: loopback, or one uniform delay.
    if (
      n !== undefined &&
      (n.matrix !== undefined || n.jitterMs > 0 || n.lossPercent > 0 || n.bandwidthMbit !== undefined)
    )
      continue;
    const model = modelLabel(n === undefined ? LOOPBACK_MODEL : { kind: "uniform", latencyMs: n.latencyMs });
    const engine = r.engine ?? "tendermint";
    const sim = points.find((p) => p.engine === engine && p.validators === r.validators && p.model === model);
    if (sim === undefined) continue;
    comparisons.push({
      round: r.name,
      engine,
      validators: r.validators,
      model,
      measured: {
        ...(r.consensus === undefined ? {} : { messagesPerBlock: r.consensus.messagesPerBlock }),
        ...(r.blocks === undefined || r.blocks.perSec <= 0
          ? {}
          : { blockTimeMs: Math.round((1000 / r.blocks.perSec) * 10) / 10 }),
      },
      simulated: { messagesPerBlock: sim.messagesPerBlock, blockTimeMs: sim.blockTimeMs },
    });
  }
  return {
    kind: "simulation",
    method: SIMULATION_METHOD,
    points,
    comparisons,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}
