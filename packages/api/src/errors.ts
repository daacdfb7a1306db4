/**
 * The one table from error code to HTTP status. Codes are stable: clients branch on them, so
 * renaming one is a breaking change. docs/api.md lists what each means and what to do about it.
 */
export const ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  // The request or the transaction in it is wrong: fix it, do not retry as is.
  MALFORMED: 400,
  NON_CANONICAL: 400,
  BAD_FIELD: 400,
  BAD_VERSION: 400,
  TOO_DEEP: 400,
  UNSUPPORTED_VALUE: 400,
  BAD_SIGNATURE: 400,
  WRONG_CHAIN: 400,
  EXPIRED: 400,
  EXPIRY_TOO_FAR: 400,
  UNKNOWN_CONTRACT: 400,
  UNKNOWN_METHOD: 400,
  BAD_ARGS: 400,
  BAD_REQUEST: 400,
  BAD_HEX: 400,
  BAD_NAME: 400,
  // Private data (docs/privacy.md).
  PRIVATE_DATA_MISMATCH: 400,
  PRIVATE_DATA_REQUIRED: 400,
  NO_PRIVATE_DATA: 400,
  NO_SUCH_COLLECTION: 404,
  NOT_A_MEMBER: 403,
  PRIVATE_NOT_HELD: 404,
  // Too big: split it up.
  TX_TOO_LARGE: 413,
  BODY_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 413,
  QUERY_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  // Signed reads on a "members" chain (docs/api.md, "Signed reads"). 401: sign (again); 403: the
  // signature is fine but the identity may not read this.
  READ_SIGNATURE_REQUIRED: 401,
  BAD_READ_SIGNATURE: 401,
  READ_SIGNATURE_EXPIRED: 401,
  UNKNOWN_IDENTITY: 403,
  IDENTITY_REVOKED: 403,
  ROLE_REQUIRED: 403,
  DUPLICATE: 409,
  TX_NOT_FOUND: 404,
  BLOCK_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  PROPOSAL_NOT_FOUND: 404,
  IDENTITY_NOT_FOUND: 404,
  EVIDENCE_NOT_FOUND: 404,
  TRACE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // The request did not arrive in time (headers or body trickled or stalled).
  REQUEST_TIMEOUT: 408,
  // Transient: retry after the Retry-After header.
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  MEMPOOL_FULL: 503,
  NOT_READY: 503,
  PRIVATE_DISSEMINATION_FAILED: 503,
  SERVER_BUSY: 503,
  // A fault of the node, never of the request.
  INTERNAL: 500,
});

/** Codes whose responses carry a Retry-After header. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "MEMPOOL_FULL",
  "NOT_READY",
  "PRIVATE_DISSEMINATION_FAILED",
  "RATE_LIMITED",
  "TOO_MANY_CONNECTIONS",
  "SERVER_BUSY",
]);

/**
 * HTTP status for a code. A code the table does not know came from the node judging a client's
 * transaction (a new admission rule, say), so it is the client's to fix: 400.
 */
export function statusForCode(code: string): number {
  return Object.hasOwn(ERROR_STATUS, code) ? (ERROR_STATUS[code] as number) : 400;
}

/** An error the API answers with `{error:{code,message}}` and the status from ERROR_STATUS. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = statusForCode(code)) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}
