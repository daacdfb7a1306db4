/** Typed error of the network layer: `code` is stable and machine-readable. */
export class NetworkError extends Error {
  readonly code: NetworkErrorCode;
  constructor(code: NetworkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NetworkError";
    this.code = code;
  }
}

export type NetworkErrorCode =
  /** Options are missing or malformed (chain id, addresses, peer ids, sizes). */
  | "NETWORK_BAD_OPTIONS"
  /** The key file exists but cannot be read or does not hold an Ed25519 libp2p key. */
  | "NETWORK_BAD_KEY_FILE"
  /** A listen address could not be bound (port in use, bad interface, ...). */
  | "NETWORK_LISTEN_FAILED"
  /** The network was stopped when the operation ran. */
  | "NETWORK_STOPPED"
  /** A topic not listed in `options.topics`. */
  | "NETWORK_UNKNOWN_TOPIC"
  /** A payload larger than the configured limit. */
  | "NETWORK_TOO_LARGE"
  /** The peer is not in the member set. */
  | "NETWORK_NOT_MEMBER"
  /** The peer is refused for a cool-off after repeated misbehaviour. */
  | "NETWORK_BANNED"
  /** A request did not complete within its timeout. */
  | "NETWORK_TIMEOUT"
  /** A request failed: dial, protocol negotiation, stream reset by the remote handler, ... */
  | "NETWORK_REQUEST_FAILED"
  /** A dial failed (unreachable, refused by either side's connection gater, ...). */
  | "NETWORK_DIAL_FAILED"
  /** A protocol name was registered twice. */
  | "NETWORK_ALREADY_HANDLED";
