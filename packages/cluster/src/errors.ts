/** Typed error of cluster tooling (testnets, homes, Docker, the supervisor); `code` is stable, `message` says what to do. */
export class ClusterError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClusterError";
    this.code = code;
  }
}
