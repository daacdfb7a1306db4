import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { type GossipSub, gossipsub, type Message, type TopicValidatorResult } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { ConnectionGater, PeerId, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { lpStream } from "@libp2p/utils";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import { NetworkError } from "./errors.ts";
import { loadOrCreatePeerKey } from "./keys.ts";
import { defaultNetworkOptions, type NetworkOptions } from "./options.ts";
import { PeerPenalties } from "./penalties.ts";
import { decodePeerExchange, encodePeerExchange, type PeerExchangeEntry } from "./pex.ts";

/** The logging surface the network needs (a pino logger fits; `@cairn/management` hands one per layer). */
export interface NetworkLogger {
  /** Every gossip message received, with its payload in hex: for capturing traffic (--log-level network=trace). */
  trace?(obj: object, msg?: string): void;
  /** pino's: whether a level is logged (the hex of every message is made only when tracing). */
  isLevelEnabled?(level: string): boolean;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NetworkComponents {
  /** The network layer's logger (default: silent). */
  readonly logger?: NetworkLogger;
}

/** What a gossip handler decides about a message: accepted messages are forwarded to the mesh. */
export type GossipVerdict = "accept" | "reject" | "ignore";

/**
 * Validates and consumes one gossip message. Returning nothing means "accept"; "reject" or a thrown
 * error rejects the message (not forwarded; the peer that sent it is penalised in the gossipsub peer
 * score); "ignore" drops it without penalty. `from` is the member peer that delivered the message
 * (its originator or a relay): gossip is not signed at the libp2p level, because every Cairn payload
 * carries its own signature (transactions by their sender, consensus messages by their validator).
 */
export type GossipHandler = (
  data: Uint8Array,
  from: string,
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers that return nothing accept the message
) => GossipVerdict | void | Promise<GossipVerdict | void>;

/** Answers one request; throwing (or timing out) resets the stream and the requester gets an error. */
export type RequestHandler = (request: Uint8Array, peer: string) => Uint8Array | Promise<Uint8Array>;

export interface RequestOptions {
  /** Default: `options.requestTimeoutMs`. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type NetworkEvent = "peer:connect" | "peer:disconnect";

/** Plain counters, ready to be exported as metrics. Byte counts are application payload bytes, not wire bytes. */
export interface NetworkStats {
  /** Connected member peers now. */
  readonly peers: number;
  /** Size of the member set (including this node when listed). */
  readonly members: number;
  readonly gossipPublished: number;
  readonly gossipBytesOut: number;
  /** Gossip messages that passed validation. */
  readonly gossipAccepted: number;
  readonly gossipBytesIn: number;
  /** Gossip messages rejected: handler threw or said "reject", oversized, signed at the libp2p level (we run StrictNoSign), or from a non-member. */
  readonly gossipRejected: number;
  readonly gossipIgnored: number;
  readonly requestsOut: number;
  readonly requestsOutFailed: number;
  readonly requestsIn: number;
  /** Incoming requests whose handler failed, timed out, or whose request was oversized / malformed. */
  readonly requestsInFailed: number;
  readonly requestBytesOut: number;
  readonly requestBytesIn: number;
  /** Connections refused by the membership gater (inbound and outbound). */
  readonly connectionsDenied: number;
  readonly dialFailures: number;
  /** Misbehaviour reports against peers: rejected gossip and `penalize` calls. */
  readonly peerPenalties: number;
  /** Peers disconnected and refused for a cool-off after too many reports. */
  readonly peersBanned: number;
  /** Peers refused now (cooling off). */
  readonly peersCoolingOff: number;
}

export interface Network {
  readonly chainId: string;
  /** This node's peer id (base58, `12D3Koo...`). */
  readonly peerId: string;
  /** Listen addresses, each ending in `/p2p/<peerId>`. */
  readonly multiaddrs: string[];
  /** The current member set. */
  members(): string[];
  /** Replaces the member set; connected peers that are no longer members are disconnected. */
  setMembers(peerIds: readonly string[]): Promise<void>;
  /** Connected peers (members only: the gater admits nobody else). */
  peers(): string[];
  /** Dials a multiaddr now (it must end in `/p2p/<member id>`); the dial loop keeps it connected. */
  connect(address: string): Promise<void>;
  /** Publishes on `/cairn/<chainId>/<topic>/1`; resolves to the number of peers it was sent to. */
  publish(topic: string, data: Uint8Array): Promise<number>;
  /** Connected peers subscribed to a topic that a `publish` would reach right now. */
  subscribers(topic: string): string[];
  /** Subscribes a handler (validator + consumer) to a topic; returns the unsubscribe function. */
  subscribe(topic: string, handler: GossipHandler): () => void;
  /** Serves `/cairn/<chainId>/<name>/1`: one length-prefixed request, one length-prefixed response per stream. */
  handle(name: string, handler: RequestHandler): Promise<void>;
  unhandle(name: string): Promise<void>;
  /** Sends one request to a connected (or dialable) member and waits for its response. */
  request(peerId: string, name: string, data: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  /** Listens to peer connect / disconnect; returns the unsubscribe function. */
  on(event: NetworkEvent, listener: (peerId: string) => void): () => void;
  /** The gossipsub peer score this node gives `peerId` (negative after invalid messages). */
  gossipScore(peerId: string): number;
  /**
   * Reports a peer that broke the protocol (an invalid message on any path, a sync it could not
   * serve). After `maxPenalties` reports within `penaltyWindowMs` the peer is disconnected and
   * refused, member or not, for `banMs`.
   */
  penalize(peerId: string, reason: string): void;
  /** Whether `peerId` is refused now (cooling off after too many reports). */
  banned(peerId: string): boolean;
  /**
   * Fault injection for a local cluster (the supervisor's partition): refuses and disconnects these
   * peers, members or not, until the next call; `sever([])` heals. Never called in production.
   */
  sever(peerIds: readonly string[]): void;
  stats(): NetworkStats;
  stop(): Promise<void>;
}

/** `/cairn/<chainId>/<name>/1`: the id of a gossip topic. */
export function topicId(chainId: string, name: string): string {
  return `/cairn/${chainId}/${name}/1`;
}

/** `/cairn/<chainId>/<name>/1`: the id of a request/response protocol. */
export function protocolId(chainId: string, name: string): string {
  return `/cairn/${chainId}/${name}/1`;
}

/** The reserved protocol name of peer exchange. */
export const PEER_EXCHANGE = "pex";

const silentLogger: NetworkLogger = { debug() {}, info() {}, warn() {}, error() {} };
const P2P_CODE = 421;
/** Room for gossipsub's RPC framing, signature and key on top of the payload. */
const RPC_OVERHEAD_BYTES = 64 * 1024;

type Services = {
  identify: ReturnType<ReturnType<typeof identify>>;
  ping: ReturnType<ReturnType<typeof ping>>;
  pubsub: GossipSub;
};
type GossipSubWithScore = GossipSub & { getScore(peerId: string): number };

interface DialState {
  attempts: number;
  nextAt: number;
  dialing: boolean;
  /** When the dial loop first saw this member connected but not identified (undefined otherwise). */
  unidentifiedSince?: number | undefined;
}

/**
 * The wait before the next dial to a member after `attempts` consecutive failures: `minMs`, doubled
 * per failure, capped at `maxMs`, minus up to 25% jitter so restarted clusters do not dial in lockstep.
 */
export function redialDelay(
  attempts: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempts - 1));
  return base * (0.75 + random() * 0.25);
}

function peerIdOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast((c) => c.name === "p2p")?.value;
}

function validNames(name: string, what: string): void {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name)) {
    throw new NetworkError("NETWORK_BAD_OPTIONS", `bad ${what} name "${name}"`);
  }
}

function parsePeerId(id: string): PeerId {
  try {
    return peerIdFromString(id);
  } catch (err) {
    throw new NetworkError("NETWORK_BAD_OPTIONS", `bad peer id "${id}"`, { cause: err });
  }
}

function parseMultiaddr(address: string): Multiaddr {
  try {
    return multiaddr(address);
  } catch (err) {
    throw new NetworkError("NETWORK_BAD_OPTIONS", `bad multiaddr "${address}"`, { cause: err });
  }
}

/** Rejects with the signal's reason once it aborts. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Refuses options no network can run with: a bad chain id or topic name, a bound that is not positive. */
function checkOptions(opts: NetworkOptions): void {
  if (!/^[A-Za-z0-9._-]+$/.test(opts.chainId)) {
    throw new NetworkError("NETWORK_BAD_OPTIONS", `bad chain id "${opts.chainId}"`);
  }
  for (const t of opts.topics) validNames(t, "topic");
  const positive = [
    "maxMessageBytes",
    "maxRequestBytes",
    "maxResponseBytes",
    "requestTimeoutMs",
    "redialMinMs",
    "redialMaxMs",
    "dialTickMs",
    "peerExchangeIntervalMs",
    "dialTimeoutMs",
    "identifyRetryMs",
    "maxPenalties",
    "penaltyWindowMs",
    "banMs",
  ] as const;
  for (const k of positive) {
    if (!Number.isFinite(opts[k]) || opts[k] <= 0) throw new NetworkError("NETWORK_BAD_OPTIONS", `${k} must be > 0`);
  }
}

/** Gossipsub as Cairn runs it: flood publish to members, no relaying mesh, scores from invalid messages only. */
function gossipOptions(opts: NetworkOptions, topicIds: readonly string[]): Parameters<typeof gossipsub>[0] {
  // Peer score: only invalid deliveries (and a little first-delivery credit) count. Mesh-delivery
  // rate penalties are off: a quiet validator is not a misbehaving one. IP colocation is off: a
  // permissioned cluster often runs several nodes on one host.
  const topicScore = {
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.5,
    firstMessageDeliveriesCap: 5,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    invalidMessageDeliveriesWeight: -10,
    invalidMessageDeliveriesDecay: 0.9,
  };

  return {
    // Only members connect and every payload is signed by its author, so a libp2p signature per
    // message adds nothing but cost: under StrictSign every copy received (relayed duplicates
    // included) paid an Ed25519 verification on the main thread before de-duplication, 13 % of
    // a validator's main thread at 600 tx/s. Message ids are then the SHA-256 of the payload.
    globalSignaturePolicy: "StrictNoSign",
    emitSelf: false,
    // Flood publish + an empty mesh: the author sends each message straight to every connected
    // member, and nobody relays it on receipt. Members form a full mesh, where mesh relaying
    // only delivers copies everyone already has (each node got every vote 3 times in a 4-node
    // cluster). A member that is not directly connected still gets the message: the lazy
    // gossip of every heartbeat (IHAVE of recent message ids, answered with IWANT) pulls it in.
    floodPublish: true,
    D: 0,
    Dlo: 0,
    Dhi: 0,
    Dout: 0,
    Dscore: 0,
    doPX: false,
    fallbackToFloodsub: false,
    allowPublishToZeroTopicPeers: true,
    allowedTopics: [...topicIds],
    maxInboundDataLength: opts.maxMessageBytes + RPC_OVERHEAD_BYTES,
    scoreParams: {
      topics: Object.fromEntries(topicIds.map((t) => [t, topicScore])),
      IPColocationFactorWeight: 0,
    },
  };
}

/**
 * Starts the network component: a libp2p node (TCP, Noise, Yamux, identify, ping, gossipsub) whose
 * connection gater admits members only, a dial loop that keeps members connected (bootstrap addresses
 * and peer exchange supply their addresses), gossip and request/response.
 */
export async function createNetwork(
  components: NetworkComponents,
  options: Partial<NetworkOptions> & Pick<NetworkOptions, "chainId" | "keyFile">,
): Promise<Network> {
  const opts: NetworkOptions = { ...defaultNetworkOptions, ...options };
  const log = components.logger ?? silentLogger;
  const tracing = log.isLevelEnabled?.("trace") === true;
  checkOptions(opts);

  const members = new Set<string>();
  for (const m of opts.members) members.add(parsePeerId(m).toString());
  const bootstrap = opts.bootstrap.map((a) => {
    const ma = parseMultiaddr(a);
    const id = peerIdOf(ma);
    if (id === undefined) throw new NetworkError("NETWORK_BAD_OPTIONS", `bootstrap address "${a}" has no /p2p/ id`);
    return { id: parsePeerId(id), addr: ma.decapsulateCode(P2P_CODE) };
  });
  const listen = opts.listen.map((a) => parseMultiaddr(a).toString());

  const counters = {
    gossipPublished: 0,
    gossipBytesOut: 0,
    gossipAccepted: 0,
    gossipBytesIn: 0,
    gossipRejected: 0,
    gossipIgnored: 0,
    requestsOut: 0,
    requestsOutFailed: 0,
    requestsIn: 0,
    requestsInFailed: 0,
    requestBytesOut: 0,
    requestBytesIn: 0,
    connectionsDenied: 0,
    dialFailures: 0,
  };

  // Misbehaving peers: reports within a window, then a cool-off (penalties.ts).
  const penalties = new PeerPenalties(opts, log);
  const isBanned = (id: string) => penalties.isBanned(id);
  let stopped = false;
  const penalize = (id: string, reason: string) => {
    if (id === undefined || stopped) return;
    penalties.penalize(id, reason);
  };

  const isMember = (peer: PeerId | string) => members.has(peer.toString());
  // Peers cut off by `sever` (a local cluster's partition): refused like a banned peer.
  let severed = new Set<string>();
  const deny = (peer: PeerId, direction: string) => {
    if (isBanned(peer.toString()) || severed.has(peer.toString())) {
      counters.connectionsDenied++;
      return true;
    }
    if (isMember(peer)) return false;
    counters.connectionsDenied++;
    log.info({ peer: peer.toString(), direction }, "refused connection from/to non-member");
    return true;
  };
  // Gate at dial time (outbound, before any packet) and right after the Noise handshake (both
  // directions: that is the first moment the remote's peer id is authenticated).
  const connectionGater: ConnectionGater = {
    denyDialPeer: (peer) => deny(peer, "dial"),
    denyInboundEncryptedConnection: (peer) => deny(peer, "inbound"),
    denyOutboundEncryptedConnection: (peer) => deny(peer, "outbound"),
  };

  const topicIds = opts.topics.map((t) => topicId(opts.chainId, t));
  const privateKey = await loadOrCreatePeerKey(opts.keyFile);
  const libp2p: Libp2p<Services> = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater,
    connectionManager: { dialTimeout: opts.dialTimeoutMs, reconnectRetries: 0 },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipOptions(opts, topicIds)),
    },
  });
  const pubsub = libp2p.services.pubsub as GossipSubWithScore;
  const selfId = libp2p.peerId.toString();
  penalties.hangUp = (id) => {
    void libp2p.hangUp(peerIdFromString(id)).catch((err) => log.debug({ peer: id, err }, "hang up failed"));
  };

  // --- events -------------------------------------------------------------------------------
  const listeners: Record<NetworkEvent, Set<(peerId: string) => void>> = {
    "peer:connect": new Set(),
    "peer:disconnect": new Set(),
  };
  const emit = (event: NetworkEvent, peerId: string) => {
    for (const l of listeners[event]) {
      try {
        l(peerId);
      } catch (err) {
        log.error({ err, event }, "network event listener threw");
      }
    }
  };

  // --- dial loop and peer exchange ----------------------------------------------------------
  const dialStates = new Map<string, DialState>();
  const connected = (id: string) => libp2p.getConnections(peerIdFromString(id)).length > 0;
  const dialState = (id: string) => {
    let s = dialStates.get(id);
    if (s === undefined) {
      s = { attempts: 0, nextAt: 0, dialing: false };
      dialStates.set(id, s);
    }
    return s;
  };
  const hasAddresses = async (id: PeerId) => {
    try {
      return (await libp2p.peerStore.get(id)).addresses.length > 0;
    } catch {
      return false;
    }
  };

  const dialMember = async (id: string) => {
    const s = dialState(id);
    s.dialing = true;
    try {
      await libp2p.dial(peerIdFromString(id), { signal: AbortSignal.timeout(opts.dialTimeoutMs) });
      // Not yet a success: a remote whose gater refuses us closes the connection only after our
      // side of the handshake completed. The backoff resets when identify confirms the peer.
      s.attempts++;
      s.nextAt = Date.now() + redialDelay(s.attempts, opts.redialMinMs, opts.redialMaxMs);
    } catch (err) {
      counters.dialFailures++;
      s.attempts++;
      const delay = redialDelay(s.attempts, opts.redialMinMs, opts.redialMaxMs);
      s.nextAt = Date.now() + delay;
      log.debug({ peer: id, attempts: s.attempts, delayMs: Math.round(delay), err }, "dial to member failed");
    } finally {
      s.dialing = false;
    }
  };

  // libp2p runs identify once per connection and never again: one that failed or timed out (a
  // busy machine, a peer restarting) would leave the member connected yet outside peers() for as
  // long as the connection lives, and the dial loop does not dial a connected member. So it is run
  // again; if that fails too, the connection is closed and the dial loop makes a fresh one.
  const reidentify = async (id: string) => {
    for (const conn of libp2p.getConnections(peerIdFromString(id))) {
      if (conn.status !== "open") continue;
      try {
        await libp2p.services.identify.identify(conn, { signal: AbortSignal.timeout(opts.dialTimeoutMs) });
        return; // its peer:identify event confirms the member
      } catch (err) {
        log.debug({ peer: id, err }, "identify failed again; closing the connection");
        await conn.close().catch(() => conn.abort(err as Error));
      }
    }
  };

  let ticking = false;
  const tick = async () => {
    if (ticking || stopped) return;
    ticking = true;
    try {
      const now = Date.now();
      for (const id of members) {
        if (id === selfId || stopped) continue;
        const s = dialState(id);
        if (s.dialing || now < s.nextAt || isBanned(id)) continue;
        if (connected(id)) {
          s.attempts = 0;
          if (confirmed.has(id)) s.unidentifiedSince = undefined;
          else if (s.unidentifiedSince === undefined) s.unidentifiedSince = now;
          else if (now - s.unidentifiedSince >= opts.identifyRetryMs) {
            s.unidentifiedSince = now;
            void reidentify(id);
          }
          continue;
        }
        if (!(await hasAddresses(peerIdFromString(id)))) continue;
        void dialMember(id);
      }
    } finally {
      ticking = false;
    }
  };

  const pexProtocol = protocolId(opts.chainId, PEER_EXCHANGE);
  const peerExchangeAnswer = async (requester: string): Promise<Uint8Array> => {
    const entries: PeerExchangeEntry[] = [];
    for (const id of peersNow()) {
      if (id === requester) continue;
      try {
        const peer = await libp2p.peerStore.get(peerIdFromString(id));
        const addrs = peer.addresses.map((a) => a.multiaddr.toString());
        if (addrs.length > 0) entries.push({ id, addrs });
      } catch {
        // not in the peer store yet (identify still running): the next exchange will carry it
      }
    }
    return encodePeerExchange(entries);
  };

  const learn = async (entries: readonly PeerExchangeEntry[]) => {
    for (const e of entries) {
      if (e.id === selfId || !members.has(e.id)) continue;
      let id: PeerId;
      let addrs: Multiaddr[];
      try {
        id = peerIdFromString(e.id);
        addrs = e.addrs
          .map((a) => multiaddr(a))
          .map((ma) => (peerIdOf(ma) === undefined ? ma : ma.decapsulateCode(P2P_CODE)));
      } catch {
        continue;
      }
      if (addrs.length === 0) continue;
      let known: Set<string>;
      try {
        known = new Set((await libp2p.peerStore.get(id)).addresses.map((a) => a.multiaddr.toString()));
      } catch {
        known = new Set();
      }
      if (addrs.every((a) => known.has(a.toString()))) continue;
      await libp2p.peerStore.merge(id, { multiaddrs: addrs });
      const s = dialState(e.id);
      if (!connected(e.id) && !s.dialing) s.nextAt = 0; // new addresses: try now, not after the backoff
    }
  };

  const exchangeWith = async (id: string) => {
    try {
      const res = await request(id, PEER_EXCHANGE, new Uint8Array(0), { timeoutMs: opts.dialTimeoutMs });
      await learn(decodePeerExchange(res));
      void tick();
    } catch (err) {
      if (!stopped) log.debug({ peer: id, err }, "peer exchange failed");
    }
  };

  // --- request/response ---------------------------------------------------------------------
  const handlers = new Set<string>();

  const serve = async (stream: Stream, peer: string, handler: RequestHandler) => {
    counters.requestsIn++;
    const signal = AbortSignal.timeout(opts.requestTimeoutMs);
    try {
      if (!isMember(peer)) throw new NetworkError("NETWORK_NOT_MEMBER", `${peer} is not a member`);
      if (isBanned(peer)) throw new NetworkError("NETWORK_BANNED", `${peer} is cooling off`);
      const lp = lpStream(stream, { maxDataLength: opts.maxRequestBytes });
      const req = (await lp.read({ signal })).subarray();
      counters.requestBytesIn += req.length;
      const res = await raceSignal(
        Promise.resolve().then(() => handler(req, peer)),
        signal,
      );
      if (!(res instanceof Uint8Array)) throw new TypeError("request handler must return a Uint8Array");
      if (res.length > opts.maxResponseBytes) {
        throw new NetworkError("NETWORK_TOO_LARGE", `response of ${res.length} bytes exceeds ${opts.maxResponseBytes}`);
      }
      await lp.write(res, { signal });
      counters.requestBytesOut += res.length;
      await stream.close({ signal });
    } catch (err) {
      counters.requestsInFailed++;
      log.debug({ peer, protocol: stream.protocol, err }, "request handler failed; stream reset");
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  };

  const register = async (name: string, handler: RequestHandler) => {
    const proto = protocolId(opts.chainId, name);
    if (handlers.has(proto)) throw new NetworkError("NETWORK_ALREADY_HANDLED", `${proto} already has a handler`);
    handlers.add(proto);
    await libp2p.handle(proto, (stream, connection) => serve(stream, connection.remotePeer.toString(), handler), {
      maxInboundStreams: 64,
    });
  };

  const request = async (
    peerId: string,
    name: string,
    data: Uint8Array,
    reqOptions: RequestOptions = {},
  ): Promise<Uint8Array> => {
    if (stopped) throw new NetworkError("NETWORK_STOPPED", "the network is stopped");
    validNames(name, "protocol");
    if (!members.has(peerId)) throw new NetworkError("NETWORK_NOT_MEMBER", `${peerId} is not a member`);
    if (data.length > opts.maxRequestBytes) {
      throw new NetworkError("NETWORK_TOO_LARGE", `request of ${data.length} bytes exceeds ${opts.maxRequestBytes}`);
    }
    const timeoutMs = reqOptions.timeoutMs ?? opts.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = reqOptions.signal === undefined ? timeout : AbortSignal.any([timeout, reqOptions.signal]);
    const proto = protocolId(opts.chainId, name);
    counters.requestsOut++;
    let stream: Stream | undefined;
    try {
      stream = await libp2p.dialProtocol(peerIdFromString(peerId), proto, { signal });
      const lp = lpStream(stream, { maxDataLength: opts.maxResponseBytes });
      await lp.write(data, { signal });
      counters.requestBytesOut += data.length;
      const res = (await raceSignal(lp.read({ signal }), signal)).subarray();
      counters.requestBytesIn += res.length;
      await stream.close({ signal }).catch(() => {});
      return res;
    } catch (err) {
      counters.requestsOutFailed++;
      stream?.abort(err instanceof Error ? err : new Error(String(err)));
      if (timeout.aborted) {
        throw new NetworkError("NETWORK_TIMEOUT", `${proto} to ${peerId} timed out after ${timeoutMs} ms`, {
          cause: err,
        });
      }
      throw new NetworkError("NETWORK_REQUEST_FAILED", `${proto} to ${peerId} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };

  // --- gossip -------------------------------------------------------------------------------
  const subscriptions = new Map<string, Set<GossipHandler>>();

  const checkTopic = (name: string) => {
    const id = topicId(opts.chainId, name);
    if (!topicIds.includes(id)) {
      throw new NetworkError("NETWORK_UNKNOWN_TOPIC", `topic "${name}" is not in options.topics (${opts.topics})`);
    }
    return id;
  };

  const validate = async (topic: string, source: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    if (isBanned(source.toString())) return "ignore" as TopicValidatorResult;
    const verdict = await judge(topic, source, msg);
    if (verdict === "accept") {
      counters.gossipAccepted++;
      counters.gossipBytesIn += msg.data.length;
    } else if (verdict === "reject") {
      counters.gossipRejected++;
      penalize(source.toString(), `invalid message on ${topic}`);
    } else counters.gossipIgnored++;
    return verdict as TopicValidatorResult;
  };

  const judge = async (topic: string, source: PeerId, msg: Message): Promise<GossipVerdict> => {
    if (msg.type !== "unsigned") return "reject";
    const from = source.toString();
    if (!isMember(from)) {
      // Only members connect, but a peer removed from the set may still have a message in flight.
      log.debug({ topic, from }, "gossip from a non-member ignored");
      return "ignore";
    }
    if (msg.data.length > opts.maxMessageBytes) {
      log.warn({ topic, from, bytes: msg.data.length }, "oversized gossip message rejected");
      return "reject";
    }
    if (tracing) {
      log.trace?.(
        { topic, from, bytes: msg.data.length, data: Buffer.from(msg.data).toString("hex") },
        "gossip message",
      );
    }
    let result: GossipVerdict = "accept";
    for (const handler of subscriptions.get(topic) ?? []) {
      try {
        const v = await handler(msg.data, from);
        if (v === "reject") return "reject";
        if (v === "ignore") result = "ignore";
      } catch (err) {
        log.warn({ topic, from, err }, "gossip handler rejected a message");
        return "reject";
      }
    }
    return result;
  };

  // --- libp2p events ------------------------------------------------------------------------
  // A peer counts as connected once identify has completed on a connection: an outbound
  // connection that the remote's gater refuses (it closes right after the Noise handshake) never
  // gets that far, so it never shows up in peers() nor fires "peer:connect".
  const confirmed = new Set<string>();
  libp2p.addEventListener("peer:identify", (evt) => {
    const id = evt.detail.peerId.toString();
    if (!isMember(id) || confirmed.has(id) || !connected(id)) return;
    if (isBanned(id)) {
      penalties.hangUp(id);
      return;
    }
    confirmed.add(id);
    const s = dialState(id);
    s.attempts = 0;
    s.nextAt = 0;
    log.debug({ peer: id }, "peer connected");
    emit("peer:connect", id);
    void exchangeWith(id);
  });
  libp2p.addEventListener("peer:disconnect", (evt) => {
    const id = evt.detail.toString();
    if (!confirmed.delete(id)) return;
    log.debug({ peer: id }, "peer disconnected");
    emit("peer:disconnect", id);
  });

  const peersNow = () => {
    const seen = new Set<string>();
    for (const c of libp2p.getConnections()) {
      const id = c.remotePeer.toString();
      if (c.status === "open" && isMember(id) && confirmed.has(id) && !isBanned(id)) seen.add(id);
    }
    return [...seen];
  };

  try {
    await libp2p.start();
  } catch (err) {
    await Promise.resolve()
      .then(() => libp2p.stop())
      .catch(() => {});
    throw new NetworkError(
      "NETWORK_LISTEN_FAILED",
      `cannot listen on ${listen.join(", ")}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  await libp2p.handle(
    pexProtocol,
    (stream, connection) => {
      const peer = connection.remotePeer.toString();
      return serve(stream, peer, () => peerExchangeAnswer(peer));
    },
    { maxInboundStreams: 4 },
  );
  handlers.add(pexProtocol);

  for (const b of bootstrap) {
    if (!isMember(b.id)) log.warn({ peer: b.id.toString() }, "bootstrap peer is not a member; it will not be dialled");
    if (b.id.equals(libp2p.peerId)) continue;
    await libp2p.peerStore.merge(b.id, { multiaddrs: [b.addr] });
  }

  const dialTimer = setInterval(() => void tick(), opts.dialTickMs);
  const pexTimer = setInterval(() => {
    const ps = peersNow();
    const pick = ps[Math.floor(Math.random() * ps.length)];
    if (pick !== undefined) void exchangeWith(pick);
  }, opts.peerExchangeIntervalMs);
  void tick();

  log.info({ peerId: selfId, addrs: libp2p.getMultiaddrs().map(String), members: members.size }, "network started");

  const network: Network = {
    chainId: opts.chainId,
    peerId: selfId,
    get multiaddrs() {
      return libp2p.getMultiaddrs().map((ma) => ma.toString());
    },
    members: () => [...members],
    async setMembers(peerIds) {
      const next = new Set(peerIds.map((p) => parsePeerId(p).toString()));
      members.clear();
      for (const m of next) members.add(m);
      for (const id of [...dialStates.keys()]) if (!members.has(id)) dialStates.delete(id);
      const dropped = new Set<string>();
      for (const c of libp2p.getConnections()) {
        const id = c.remotePeer.toString();
        if (!members.has(id)) dropped.add(id);
      }
      await Promise.all(
        [...dropped].map(async (id) => {
          log.info({ peer: id }, "peer is no longer a member; disconnecting");
          await libp2p.hangUp(peerIdFromString(id)).catch((err) => log.debug({ peer: id, err }, "hang up failed"));
        }),
      );
      void tick();
    },
    peers: peersNow,
    async connect(address) {
      if (stopped) throw new NetworkError("NETWORK_STOPPED", "the network is stopped");
      const ma = parseMultiaddr(address);
      const id = peerIdOf(ma);
      if (id === undefined) throw new NetworkError("NETWORK_BAD_OPTIONS", `address "${address}" has no /p2p/ id`);
      try {
        await libp2p.dial(ma, { signal: AbortSignal.timeout(opts.dialTimeoutMs) });
      } catch (err) {
        counters.dialFailures++;
        throw new NetworkError(
          isMember(id) ? "NETWORK_DIAL_FAILED" : "NETWORK_NOT_MEMBER",
          `dial ${address} failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
      // The remote's gater checks us only after the Noise handshake has completed on our side, so
      // a refusal shows up as the connection closing: a ping round trip proves we were admitted.
      try {
        await libp2p.services.ping.ping(peerIdFromString(id), { signal: AbortSignal.timeout(opts.dialTimeoutMs) });
      } catch (err) {
        counters.dialFailures++;
        throw new NetworkError("NETWORK_DIAL_FAILED", `dial ${address}: refused or closed by peer`, { cause: err });
      }
      await libp2p.peerStore.merge(peerIdFromString(id), { multiaddrs: [ma.decapsulateCode(P2P_CODE)] });
    },
    async publish(topic, data) {
      if (stopped) throw new NetworkError("NETWORK_STOPPED", "the network is stopped");
      const id = checkTopic(topic);
      if (data.length > opts.maxMessageBytes) {
        throw new NetworkError("NETWORK_TOO_LARGE", `message of ${data.length} bytes exceeds ${opts.maxMessageBytes}`);
      }
      const result = await pubsub.publish(id, data);
      counters.gossipPublished++;
      counters.gossipBytesOut += data.length;
      return result.recipients.length;
    },
    subscribers(topic) {
      // A subscription is learnt on the peer's inbound gossipsub stream, but publish needs our
      // outbound stream to it, which may still be opening: list only peers a publish reaches now.
      // (`streamsOutbound` is internal to @libp2p/gossipsub 17; if it disappears, no filtering.)
      const outbound = (pubsub as unknown as { streamsOutbound?: Map<string, unknown> }).streamsOutbound;
      return pubsub
        .getSubscribers(checkTopic(topic))
        .map((p) => p.toString())
        .filter((id) => outbound?.has(id) ?? true);
    },
    subscribe(topic, handler) {
      if (stopped) throw new NetworkError("NETWORK_STOPPED", "the network is stopped");
      const id = checkTopic(topic);
      let set = subscriptions.get(id);
      if (set === undefined) {
        set = new Set();
        subscriptions.set(id, set);
        pubsub.topicValidators.set(id, (source, msg) => validate(id, source, msg));
        pubsub.subscribe(id);
      }
      set.add(handler);
      return () => {
        const s = subscriptions.get(id);
        if (s === undefined || !s.delete(handler) || s.size > 0) return;
        subscriptions.delete(id);
        if (stopped) return;
        pubsub.unsubscribe(id);
        pubsub.topicValidators.delete(id);
      };
    },
    async handle(name, handler) {
      if (stopped) throw new NetworkError("NETWORK_STOPPED", "the network is stopped");
      validNames(name, "protocol");
      if (name === PEER_EXCHANGE) throw new NetworkError("NETWORK_ALREADY_HANDLED", `"${PEER_EXCHANGE}" is reserved`);
      await register(name, handler);
    },
    async unhandle(name) {
      const proto = protocolId(opts.chainId, name);
      if (name === PEER_EXCHANGE || !handlers.delete(proto)) return;
      await libp2p.unhandle(proto);
    },
    request,
    on(event, listener) {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    gossipScore: (peerId) => pubsub.getScore(peerId),
    penalize,
    banned: isBanned,
    sever(peerIds) {
      severed = new Set(peerIds);
      if (severed.size > 0) log.warn({ peers: [...severed] }, "partitioned from peers (fault injection)");
      else log.warn({}, "partition healed (fault injection)");
      for (const id of severed) penalties.hangUp(id);
    },
    stats: () => ({
      peers: peersNow().length,
      members: members.size,
      ...counters,
      peerPenalties: penalties.penalties,
      peersBanned: penalties.banned,
      peersCoolingOff: penalties.coolingOff(),
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(dialTimer);
      clearInterval(pexTimer);
      await libp2p.stop();
      log.info({ peerId: selfId }, "network stopped");
    },
  };
  return network;
}
