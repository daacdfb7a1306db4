import { LOG_LINE_LEVELS, type LogLineData } from "@cairn/messaging";
import { type DestinationStream, type Level, type Logger, pino } from "pino";
import { RecentBuffer } from "./recent.ts";

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
  /** Also keep the recent lines at `info` and above here (GET /logs, the console). */
  readonly recent?: LogBuffer;
}

/** A log line as GET /logs serves it (without its sequence number and time). */
export type LogLine = LogLineData;

/** pino's numeric levels of the lines kept (LOG_LINE_LEVELS: info 30, warn 40, error 50, fatal 60). */
const LEVEL_NAMES: Readonly<Record<number, LogLine["level"]>> = Object.fromEntries(
  LOG_LINE_LEVELS.map((l, i) => [30 + 10 * i, l]),
);

/** Recent log lines, and how many of each level were logged since start. */
export class LogBuffer extends RecentBuffer<LogLine> {
  readonly counts: Record<LogLine["level"], number> = { info: 0, warn: 0, error: 0, fatal: 0 };
}

/** A pino destination that keeps each line (info and above) in `buffer`. */
function recentStream(buffer: LogBuffer): DestinationStream {
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as { level: number; layer?: string; msg?: string; time?: number };
        const level = LEVEL_NAMES[o.level];
        if (level === undefined) return;
        buffer.counts[level]++;
        buffer.push(
          { level, layer: o.layer ?? "node", msg: o.msg ?? "" },
          typeof o.time === "number" ? o.time * 1000 : undefined,
        );
      } catch {
        // A line that is not one JSON object is not ours to keep.
      }
    },
  };
}

/** A buffer for the recent log lines (default: the last 1,000). */
export function createLogBuffer(capacity = 1_000): LogBuffer {
  return new LogBuffer(capacity);
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
  const out: DestinationStream = pretty
    ? pino.transport({ target: "pino-pretty", options: { destination: fd, colorize: true } })
    : pino.destination({ fd, sync: false });
  const recent = options.recent;
  const root = pino({ level: "trace" }, out);
  // With a recent-lines buffer, each layer is its own logger writing to both: to `out` at the
  // layer's level, to the buffer at info, so the console sees info lines even when stdout shows
  // only warnings.
  const withRecent = (layerLevel: Level | "silent"): Logger => {
    const buffer = recentStream(recent as LogBuffer);
    const streams: { level: Level; stream: DestinationStream }[] = [{ level: "info", stream: buffer }];
    if (layerLevel !== "silent") streams.push({ level: layerLevel, stream: out });
    const least = layerLevel === "silent" || RANK[layerLevel] > RANK.info ? "info" : layerLevel;
    return pino({ level: least }, pino.multistream(streams));
  };
  const children = new Map<Layer, Logger>();
  return {
    root,
    layer(name) {
      let child = children.get(name);
      if (child === undefined) {
        const layerLevel = options.layers?.[name] ?? level;
        child =
          recent === undefined
            ? root.child({ layer: name }, { level: layerLevel })
            : withRecent(layerLevel).child({ layer: name });
        children.set(name, child);
      }
      return child;
    },
  };
}

const RANK: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

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
