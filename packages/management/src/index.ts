// Cross-layer management (FG DLT: System management and Operation & maintenance): privilege
// management (roles), nodes management and governance on chain (./governance), structured logs
// and Prometheus metrics per layer (./metrics.ts).
export * from "./governance/index.ts";
export {
  createLogBuffer,
  createLoggers,
  LAYERS,
  type Layer,
  LogBuffer,
  type Logger,
  LoggingError,
  type LoggingOptions,
  type LogLine,
  type NodeLoggers,
  parseLogLevel,
} from "./logging.ts";
export {
  type ApiMetrics,
  type ConsensusMetrics,
  createNodeMetrics,
  directorySize,
  type LedgerMetrics,
  type MempoolMetrics,
  type NetworkCounters,
  type NetworkMetrics,
  type NodeMetrics,
  type NodeMetricsOptions,
  type NodeMetricsSources,
  type StorageMetrics,
} from "./metrics.ts";
export { isRole, ROLES, type Role, rolesFor } from "./privilege/roles.ts";
export { RecentBuffer, type RecentEntry } from "./recent.ts";
export { apiTelemetry, consensusTelemetry, mempoolTelemetry } from "./telemetry.ts";
export { TRACE_POINTS, type TraceMark, type TracePoint, TxTracer } from "./trace.ts";
