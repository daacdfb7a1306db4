// A running cluster the benchmark attaches to: the validators' API URLs and a directory with the
// key files `cairn testnet` wrote (admin.json, client.json, client-1.json, ...). The benchmark
// measures it but does not own it: it cannot start, stop or hurt its nodes, and reads their
// resources from GET /metrics (no disk I/O figures).
import { sleep } from "../process.ts";
import type { BenchTarget, NodeUsage, TargetCapabilities, TargetNode } from "../target.ts";

export interface AttachedTargetOptions {
  readonly urls: readonly string[];
  readonly keysDir: string;
  /** Reported as the target kind (default "processes"). */
  readonly kind?: "processes" | "docker";
  readonly log?: (line: string) => void;
}

const NOT_OWNED = "the benchmark attached to a running cluster (--url) and does not control its nodes";

export class AttachedTarget implements BenchTarget {
  readonly kind: "processes" | "docker";
  readonly network = "as deployed (attached with --url)";
  readonly capabilities: TargetCapabilities = {
    kill: NOT_OWNED,
    restart: NOT_OWNED,
    pause: NOT_OWNED,
    partition: NOT_OWNED,
  };
  readonly #o: AttachedTargetOptions;
  #nodes: TargetNode[] = [];

  constructor(o: AttachedTargetOptions) {
    if (o.urls.length === 0) throw new Error("--url needs at least one node API URL");
    this.#o = o;
    this.kind = o.kind ?? "processes";
  }

  async start(): Promise<void> {
    const nodes: TargetNode[] = [];
    for (const [i, raw] of this.#o.urls.entries()) {
      const url = raw.replace(/\/+$/, "");
      let moniker = `node${i}`;
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(3000) });
          if (res.ok) {
            moniker = ((await res.json()) as { moniker?: string }).moniker ?? moniker;
            break;
          }
        } catch {
          // retried below
        }
        if (Date.now() > deadline) throw new Error(`no Cairn node answers GET ${url}/status`);
        await sleep(250);
      }
      nodes.push({ name: nodes.some((n) => n.name === moniker) ? `${moniker}-${i}` : moniker, url });
    }
    this.#nodes = nodes;
  }

  nodes(): readonly TargetNode[] {
    return this.#nodes;
  }

  keysDir(): string {
    return this.#o.keysDir;
  }

  async kill(): Promise<void> {
    throw new Error(NOT_OWNED);
  }
  async restart(): Promise<void> {
    throw new Error(NOT_OWNED);
  }
  async pause(): Promise<void> {
    throw new Error(NOT_OWNED);
  }
  async resume(): Promise<void> {
    throw new Error(NOT_OWNED);
  }
  async partition(): Promise<void> {
    throw new Error(NOT_OWNED);
  }
  async heal(): Promise<void> {}

  usage(): NodeUsage | undefined {
    return undefined;
  }
  storageBytes(): number | undefined {
    return undefined;
  }
  async stop(): Promise<void> {}
}
