import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createNetwork,
  loadOrCreatePeerKey,
  type Network,
  type NetworkOptions,
  peerIdFromKeyFile,
} from "../../src/index.ts";

export { until as waitFor } from "@cairn/test-utils";

/** Fast timers so discovery converges within a second or two on loopback. */
export const FAST: Partial<NetworkOptions> = {
  dialTickMs: 50,
  redialMinMs: 50,
  redialMaxMs: 1000,
  peerExchangeIntervalMs: 300,
  dialTimeoutMs: 2000,
  requestTimeoutMs: 3000,
};

export interface Harness {
  dir: string;
  /** Creates (or loads) a key file and returns its path and peer id. */
  key(name: string): Promise<{ path: string; id: string }>;
  start(keyFile: string, options: Partial<NetworkOptions>): Promise<Network>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-network-"));
  const started: Network[] = [];
  return {
    dir,
    async key(name) {
      const path = join(dir, `${name}.key`);
      await loadOrCreatePeerKey(path);
      return { path, id: (await peerIdFromKeyFile(path)).toString() };
    },
    async start(keyFile, options) {
      const net = await createNetwork({}, { chainId: "test-chain", keyFile, ...FAST, ...options });
      started.push(net);
      return net;
    },
    async close() {
      await Promise.all(started.map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A listen address of `net` (with /p2p/). */
export function addr(net: Network): string {
  const a = net.multiaddrs[0];
  if (a === undefined) throw new Error("no listen address");
  return a;
}
