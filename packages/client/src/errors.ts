/**
 * An error answer of a Cairn node: `code` is the API's stable code (see docs/api.md), `status`
 * the HTTP status. Branch on `code`, not on the message.
 */
export class CairnApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Seconds to wait before retrying, from Retry-After (MEMPOOL_FULL, NOT_READY). */
  readonly retryAfter: number | undefined;
  /** The parsed response body, when there was one. */
  readonly body: unknown;
  constructor(code: string, status: number, message: string, retryAfter?: number, body?: unknown) {
    super(message);
    this.name = "CairnApiError";
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

/**
 * An error raised in the SDK itself before or instead of an API answer: bad input (BAD_HEX,
 * BAD_KEY, BAD_KEY_FILE, BAD_AMOUNT), NETWORK, TIMEOUT, BAD_RESPONSE.
 */
export class CairnClientError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CairnClientError";
    this.code = code;
  }
}
