/**
 * Typed error of the contract VM. `code` is stable: at deploy it is INVALID_MODULE, during a call
 * it becomes the receipt's error code (host functions throw it to end the call).
 */
export class VmError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VmError";
    this.code = code;
  }
}
