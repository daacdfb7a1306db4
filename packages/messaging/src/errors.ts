/**
 * Typed error of the messaging layer. `code` is stable and machine-readable; the API returns it to
 * clients unchanged, so renaming a code is a breaking change.
 */
export class MessagingError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "MessagingError";
    this.code = code;
  }
}
