/** Typed error of the ledger. `code` is stable: the API hands it to clients. */
export class LedgerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LedgerError";
    this.code = code;
  }
}
