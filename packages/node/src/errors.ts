/** Typed error of node set-up and the CLI; `code` is stable, `message` says what to do. */
export class NodeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NodeError";
    this.code = code;
  }
}
