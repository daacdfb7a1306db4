import { type Level, type Logger, pino } from "pino";

/** The layers that log on their own channel, each with its own level. */
export const LAYERS = ["node", "network", "consensus", "mempool", "ledger", "storage", "contracts", "api"] as const;
export type Layer = (typeof LAYERS)[number];

export interface LoggingOptions {
  /** Default level for every layer (default "info"). */
  readonly level?: Level | "silent";
  /** Per-layer overrides, e.g. { consensus: "debug" }. */
  readonly layers?: Partial<Record<Layer, Level | "silent">>;
  /** Human-readable lines instead of JSON (default: when stdout is a terminal). */
  readonly pretty?: boolean;
  /** Write to this file descriptor instead of stdout (default 1). */
  readonly fd?: number;
}

export interface NodeLoggers {
  readonly root: Logger;
  /** The child logger of one layer: every line carries `layer` and obeys that layer's level. */
  layer(name: Layer): Logger;
}

/**
 * Builds the node's structured JSON logger (pino) and one child per layer. Loggers are handed to
 * components, never imported as globals, so tests and embedders choose where logs go.
 */
export function createLoggers(options: LoggingOptions = {}): NodeLoggers {
  const level = options.level ?? "info";
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const fd = options.fd ?? 1;
  const root = pretty
    ? pino({ level: "trace" }, pino.transport({ target: "pino-pretty", options: { destination: fd, colorize: true } }))
    : pino({ level: "trace" }, pino.destination({ fd, sync: false }));
  const children = new Map<Layer, Logger>();
  return {
    root,
    layer(name) {
      let child = children.get(name);
      if (child === undefined) {
        child = root.child({ layer: name }, { level: options.layers?.[name] ?? level });
        children.set(name, child);
      }
      return child;
    },
  };
}

/** Parses `--log-level` values such as "info" or "info,consensus=debug,api=warn". */
export function parseLogLevel(spec: string): Pick<LoggingOptions, "level" | "layers"> {
  const levels = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
  let level: Level | "silent" | undefined;
  const layers: Partial<Record<Layer, Level | "silent">> = {};
  for (const part of spec
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [a, b] = part.split("=");
    if (b === undefined) {
      if (!levels.has(a as string)) throw new LoggingError(`unknown log level "${a}"`);
      level = a as Level;
    } else {
      if (!(LAYERS as readonly string[]).includes(a as string)) {
        throw new LoggingError(`unknown layer "${a}" (layers: ${LAYERS.join(", ")})`);
      }
      if (!levels.has(b)) throw new LoggingError(`unknown log level "${b}"`);
      layers[a as Layer] = b as Level;
    }
  }
  return level === undefined ? { layers } : { level, layers };
}

export class LoggingError extends Error {
  readonly code = "BAD_LOG_LEVEL";
  constructor(message: string) {
    super(message);
    this.name = "LoggingError";
  }
}

export type { Logger };
