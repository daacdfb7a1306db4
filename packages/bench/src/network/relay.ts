// The delaying relay of the emulated network (profile.ts). It runs in the router namespace of a net
// lab (../netns.ts), where iptables redirects each validator's peer-to-peer connections to the port
// of the relay for that ordered pair of validators. For every connection it opens one to the real
// destination and copies bytes both ways, each direction delayed by that direction's one-way
// latency (± jitter, never reordering a connection's bytes) and paced by each validator's link
// rate, shared by all its connections (a serialisation model: a chunk leaves when the sender's
// link is free, and arrives a latency later, when the receiver's link is free).
import { connect, createServer, type Server, type Socket } from "node:net";

export interface RelayPair {
  /** Validator indexes: bytes from `from` to `to` are delayed by `delayMs`, the answers by the reverse pair's. */
  readonly from: number;
  readonly to: number;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly targetHost: string;
  readonly targetPort: number;
  readonly delayMs: number;
  /** The reverse direction's one-way delay (bytes from `to` back to `from`). */
  readonly returnDelayMs: number;
}

export interface RelayConfig {
  readonly pairs: readonly RelayPair[];
  readonly jitterMs: number;
  /** Each validator's link rate, each direction, Mbit/s; undefined: unlimited. */
  readonly bandwidthMbit?: number;
}

/** Bytes queued in one direction before the sending side is paused (TCP backpressure). */
const HIGH_WATER = 4 * 1024 * 1024;

/** Per validator: when its outgoing and incoming link is free again (ms, performance.now()). */
class Links {
  readonly #egress = new Map<number, number>();
  readonly #ingress = new Map<number, number>();
  readonly #bytesPerMs: number | undefined;
  constructor(mbit: number | undefined) {
    this.#bytesPerMs = mbit === undefined ? undefined : (mbit * 1e6) / 8 / 1000;
  }
  /** When a chunk of `bytes` sent now from `from` to `to` with `delay` arrives. */
  arrival(from: number, to: number, bytes: number, now: number, delay: number): number {
    const rate = this.#bytesPerMs;
    if (rate === undefined) return now + delay;
    const wire = bytes / rate;
    const depart = Math.max(now, this.#egress.get(from) ?? 0) + wire;
    this.#egress.set(from, depart);
    const arrive = Math.max(depart + delay, (this.#ingress.get(to) ?? 0) + wire);
    this.#ingress.set(to, arrive);
    return arrive;
  }
}

/** One direction of one connection: a queue of chunks with their due times. */
function pipe(
  src: Socket,
  dst: Socket,
  from: number,
  to: number,
  delayMs: number,
  jitterMs: number,
  links: Links,
): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let queued = 0;
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as { due: number }).due <= now + 0.5) {
      const { chunk } = queue.shift() as { due: number; chunk: Buffer };
      queued -= chunk.length;
      dst.write(chunk);
    }
    if (queued < HIGH_WATER / 2 && src.isPaused()) src.resume();
    if (queue.length > 0) timer = setTimeout(flush, (queue[0] as { due: number }).due - now);
    else if (ended) dst.end();
  };
  src.on("data", (chunk: Buffer) => {
    const now = performance.now();
    const jitter = jitterMs > 0 ? (Math.random() * 2 - 1) * jitterMs : 0;
    // Never earlier than the previous chunk: a TCP stream is never reordered.
    const due = Math.max(last, links.arrival(from, to, chunk.length, now, Math.max(0, delayMs + jitter)));
    last = due;
    queue.push({ due, chunk });
    queued += chunk.length;
    if (queued > HIGH_WATER) src.pause();
    if (timer === undefined) timer = setTimeout(flush, due - now);
  });
  src.on("end", () => {
    ended = true;
    if (queue.length === 0 && timer === undefined) dst.end();
  });
}

/** Starts listening on every pair's port; resolves with the servers once all listen. */
export async function startRelay(config: RelayConfig): Promise<Server[]> {
  const links = new Links(config.bandwidthMbit);
  const servers: Server[] = [];
  for (const p of config.pairs) {
    const server = createServer({ noDelay: true }, (inbound) => {
      const outbound = connect({ host: p.targetHost, port: p.targetPort, noDelay: true });
      const close = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on("error", close);
      outbound.on("error", close);
      inbound.on("close", () => outbound.end());
      outbound.on("close", () => inbound.end());
      pipe(inbound, outbound, p.from, p.to, p.delayMs, config.jitterMs, links);
      pipe(outbound, inbound, p.to, p.from, p.returnDelayMs, config.jitterMs, links);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(p.listenPort, p.listenHost, () => resolve());
    });
    servers.push(server);
  }
  return servers;
}
