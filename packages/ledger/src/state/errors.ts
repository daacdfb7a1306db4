/** Typed error of the world state: `code` is stable and machine-readable. */
export class StateError extends Error {
  readonly code: StateErrorCode;
  constructor(code: StateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateError";
    this.code = code;
  }
}

export type StateErrorCode =
  /** A contract id whose UTF-8 encoding is longer than 65535 bytes (or is not a string). */
  | "STATE_BAD_CONTRACT"
  /** An overlay or prepared state based on a state root that is no longer the committed one. */
  | "STATE_STALE"
  /** An overlay or prepared state that belongs to another WorldState instance. */
  | "STATE_FOREIGN"
  /** A prepared state that was already committed. */
  | "STATE_ALREADY_COMMITTED"
  /** A checkpoint that is not one of this overlay's. */
  | "STATE_BAD_CHECKPOINT"
  /** The stored tree is inconsistent (a node the tree refers to is missing or malformed). */
  | "STATE_CORRUPT";
