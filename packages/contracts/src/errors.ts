/**
 * A contract's refusal: the transaction fails with `code` in its receipt and its writes are
 * reverted. Codes are stable (clients branch on them); messages are for people.
 */
export class ContractError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ContractError";
    this.code = code;
  }
}
