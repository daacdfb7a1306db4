/** Options of the network layer. Every field has a default except where noted in `createNetwork`. */
export interface NetworkOptions {
  /** Chain id: namespaces every topic and protocol (`/cairn/<chainId>/<name>/1`). Required. */
  readonly chainId: string;
  /** File holding this node's libp2p Ed25519 key; created (mode 600) on first use. Required. */
  readonly keyFile: string;
  /** Addresses to listen on (default one ephemeral loopback TCP port). */
  readonly listen: readonly string[];
  /** Peer ids (base58 strings) admitted to connect; this node's own id may be included. */
  readonly members: readonly string[];
  /** Multiaddrs ending in `/p2p/<peer id>` dialled at start and kept dialled while they are members. */
  readonly bootstrap: readonly string[];
  /** Gossip topic names this node may publish or subscribe to (each gets peer-score parameters). */
  readonly topics: readonly string[];
  /** Largest gossip message payload in bytes (default 4 MiB); larger ones are rejected. */
  readonly maxMessageBytes: number;
  /** Largest request payload accepted by `handle` handlers (default 1 MiB). */
  readonly maxRequestBytes: number;
  /** Largest response payload accepted by `request` (default 16 MiB, room for block batches). */
  readonly maxResponseBytes: number;
  /** Default `request` timeout and the time a handler gets to answer (default 10 s). */
  readonly requestTimeoutMs: number;
  /** First redial delay for an unconnected member (default 250 ms), doubled per failure... */
  readonly redialMinMs: number;
  /** ...up to this bound (default 10 s). */
  readonly redialMaxMs: number;
  /** How often the dial loop looks for unconnected members (default 250 ms). */
  readonly dialTickMs: number;
  /** How often a random connected member is asked for its member list (default 5 s). */
  readonly peerExchangeIntervalMs: number;
  /** Timeout of one outgoing dial, and of an identify run again (default 5 s). */
  readonly dialTimeoutMs: number;
  /**
   * A member connected this long without a completed identify (it failed or timed out) is identified
   * again; if that fails the connection is closed and redialled (default 10 s).
   */
  readonly identifyRetryMs: number;
  /** Misbehaviour reports (invalid messages, `penalize`) within `penaltyWindowMs` before a peer is banned (default 20). */
  readonly maxPenalties: number;
  /** The window reports are counted in (default 60 s). */
  readonly penaltyWindowMs: number;
  /** How long a banned peer is disconnected and refused (default 60 s). */
  readonly banMs: number;
}

export const defaultNetworkOptions: Omit<NetworkOptions, "chainId" | "keyFile"> = {
  listen: ["/ip4/127.0.0.1/tcp/0"],
  members: [],
  bootstrap: [],
  topics: ["txs", "consensus"],
  maxMessageBytes: 4 * 1024 * 1024,
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 16 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  redialMinMs: 250,
  redialMaxMs: 10_000,
  dialTickMs: 250,
  peerExchangeIntervalMs: 5_000,
  dialTimeoutMs: 5_000,
  identifyRetryMs: 10_000,
  maxPenalties: 20,
  penaltyWindowMs: 60_000,
  banMs: 60_000,
};
