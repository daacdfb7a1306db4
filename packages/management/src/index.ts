// Cross-layer management (FG DLT: Operation & maintenance, System management). Today: structured
// logs per layer. Issue [4/6] adds metrics, health/readiness, governance and on-chain node registry.
export {
  createLoggers,
  LAYERS,
  type Layer,
  type Logger,
  LoggingError,
  type LoggingOptions,
  type NodeLoggers,
  parseLogLevel,
} from "./logging.ts";
