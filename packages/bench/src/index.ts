// @cairn/bench: `cairn bench`, benchmarking a Cairn cluster against the FG DLT assessment criteria.
export {
  type BenchOptions,
  type ClusterPlan,
  comparisonKey,
  ENGINE_LABEL,
  engineComparisons,
  engineTargetNotes,
  RESULTS_DIR,
  type RoundSpec,
  rateLabel,
  reportSummary,
  roundName,
  runBench,
  type SaturationSettings,
  targetNotes,
  writeReports,
} from "./bench.ts";
export { compareReports, type ReportComparison, renderComparisonHtml, renderComparisonMarkdown } from "./compare.ts";
export { buildExampleToken, TOKEN_DIR, WASM_TOKEN } from "./contracts.ts";
export * from "./cpuprofile.ts";
export { buildCriteria } from "./criteria.ts";
export { type BlockEvent, followEvents } from "./events.ts";
export {
  defaultPartitionSide,
  FAULT_KINDS,
  type FaultKind,
  type FaultPlan,
  isFaultKind,
} from "./faults.ts";
export { formatCodes, formatMs, formatNumber, intOption, markdownTable, parseArgs } from "./format.ts";
export { Generator, type GeneratorOptions, type ReadRequest } from "./generator.ts";
export { keyPicker, kvKey, prng, ZIPF_THETA } from "./keys.ts";
export * from "./load.ts";
export * from "./machine.ts";
export { fetchNodeMetrics, metricSum, type NodeMetrics, parseNodeMetrics } from "./metrics.ts";
export { createNetLab, emulationUnavailable, type NetLab, netnsUnavailable } from "./netns.ts";
export { THREE_REGIONS_FILE } from "./network/files.ts";
export {
  delayBetween,
  EMULATION_METHOD,
  emulates,
  latencyMatrix,
  loadLatencyMatrix,
  type NetworkProfile,
  NetworkProfileError,
  networkLabel,
  parseBandwidth,
  parseDuration,
  parsePercent,
  regionLatency,
} from "./network/profile.ts";
export { commitEnvelopes, type PreparedWorkload, prepareWorkload } from "./ops.ts";
export * from "./process.ts";
export * from "./profile.ts";
export { renderHtml, renderMarkdown } from "./render/index.ts";
export * from "./report.ts";
export { batchSize, type RoundContext, type RoundPlan, runRound, summaryLine } from "./round.ts";
export {
  type SaturationOptions,
  type SaturationOutcome,
  type SaturationProbe,
  searchSaturation,
} from "./saturation.ts";
export { validateReport } from "./schema.ts";
export { getJson, readKeys, Session } from "./session.ts";
export { createSimNetwork, type LatencyModel, MESH_DEGREE, modelLabel } from "./simulation/network.ts";
export {
  defaultSimulation,
  LOOPBACK_MODEL,
  runSimulation,
  SIMULATION_METHOD,
  type SimulationPlan,
  threeRegionsModel,
} from "./simulation/plan.ts";
export { type ScalePoint, type ScaleRunOptions, simulateConsensus } from "./simulation/scale.ts";
export { EMPTY_LATENCY, histogram, histogramBounds, latencyStats, quantile, stddev } from "./stats.ts";
export {
  engineRounds,
  STANDARD_REPEAT,
  STANDARD_WAN,
  SUITES,
  type SuiteName,
  type SuiteOptions,
  standardSuite,
  threeRegionsNetwork,
  wanSuite,
} from "./suite.ts";
export type { BenchTarget, ClusterSpec, NodeUsage, TargetCapabilities, TargetNode } from "./target.ts";
export { nodeByName } from "./target.ts";
export { AttachedTarget, type AttachedTargetOptions } from "./targets/attached.ts";
export { DockerTarget, type DockerTargetOptions } from "./targets/docker.ts";
export { ProcessTarget, type ProcessTargetOptions } from "./targets/processes.ts";
export {
  compareFigures,
  FIGURE_INFO,
  type FigureComparison,
  figureOf,
  formatFigure,
  mergeTrials,
  trialFigure,
  verdict,
} from "./trials.ts";
export * from "./txs.ts";
export {
  listWorkloads,
  loadWorkload,
  type MixEntry,
  OPERATIONS,
  type OperationName,
  opPicker,
  parseWorkload,
  splitRate,
  WORKLOAD_LIMITS,
  WORKLOADS_DIR,
  WorkloadError,
  type WorkloadSpec,
} from "./workload.ts";
