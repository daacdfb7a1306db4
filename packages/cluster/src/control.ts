// The local cluster's control endpoint (docs/console.md, "Cluster view"): an HTTP server of the
// supervisor on 127.0.0.1 only, through which the console (or curl) kills, pauses, resumes and
// restarts nodes, partitions and heals the cluster, and pauses or steps the whole chain. It exists
// only while `cairn cluster` runs; a node never serves it. Browsers may call it only from a page one
// of the cluster's own nodes served (the Origin header), so another site cannot reach it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type NodeState = "running" | "paused" | "killed" | "exited" | "starting";

export interface ControlledNode {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly state: NodeState;
}

/** What the endpoint asks of the supervisor. */
export interface ClusterControl {
  nodes(): readonly ControlledNode[];
  /** The partition in force: groups of node indexes (empty when healed). */
  partition(): readonly (readonly number[])[];
  kill(i: number): void;
  pause(i: number): void;
  resume(i: number): void;
  restart(i: number): Promise<void>;
  /** Cuts the cluster into groups that cannot reach each other; a node in no group is cut off from all. */
  setPartition(groups: readonly (readonly number[])[]): void;
  heal(): void;
  /** Pauses every running node (SIGSTOP): the chain stops where it is. */
  pauseChain(): void;
  resumeChain(): void;
  /** Resumes the chain until one more block is committed (or `timeoutMs`), then pauses it again. */
  stepChain(timeoutMs: number): Promise<{ height: number }>;
  readonly teach: boolean;
}

export class ControlError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const MAX_BODY = 16 * 1024;

/** Starts the control endpoint on 127.0.0.1:`port` (0: any free port); resolves to its URL and a closer. */
export async function startControlServer(
  control: ClusterControl,
  port: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const allowed = () => new Set(control.nodes().flatMap((n) => originsOf(n.url)));
  const server = createServer((req, res) => {
    void handle(control, allowed(), req, res).catch((err: unknown) => {
      const e =
        err instanceof ControlError ? err : new ControlError("INTERNAL", 500, (err as Error)?.message ?? String(err));
      reply(res, e.status, { error: { code: e.code, message: e.message } });
    });
  });
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** http://127.0.0.1:P and http://localhost:P for a node's API URL. */
function originsOf(url: string): string[] {
  try {
    const u = new URL(url);
    return [`${u.protocol}//${u.host}`, `${u.protocol}//localhost:${u.port}`, `${u.protocol}//127.0.0.1:${u.port}`];
  } catch {
    return [];
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ControlError("BODY_TOO_LARGE", 413, `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ControlError("BAD_JSON", 400, "the body is not JSON");
  }
}

function nodeIndex(control: ClusterControl, raw: string): number {
  const i = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(i) || i >= control.nodes().length) {
    throw new ControlError(
      "UNKNOWN_NODE",
      404,
      `no node ${raw}; the cluster has nodes 0 to ${control.nodes().length - 1}`,
    );
  }
  return i;
}

function parseGroups(control: ClusterControl, body: unknown): number[][] {
  const groups = (body as { groups?: unknown })?.groups;
  const n = control.nodes().length;
  if (!Array.isArray(groups) || groups.length < 2) {
    throw new ControlError(
      "BAD_PARTITION",
      400,
      'expected {"groups": [[0, 1], [2, 3]]}: two or more groups of node indexes',
    );
  }
  const seen = new Set<number>();
  return groups.map((g) => {
    if (!Array.isArray(g) || g.length === 0)
      throw new ControlError("BAD_PARTITION", 400, "each group is a non-empty list");
    return g.map((x) => {
      if (!Number.isInteger(x) || x < 0 || x >= n || seen.has(x)) {
        throw new ControlError("BAD_PARTITION", 400, `node indexes must be distinct whole numbers from 0 to ${n - 1}`);
      }
      seen.add(x);
      return x as number;
    });
  });
}

async function handle(
  control: ClusterControl,
  origins: Set<string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // A page from elsewhere gets nothing (and learns nothing: no CORS headers).
    if (!origins.has(origin))
      throw new ControlError("FORBIDDEN_ORIGIN", 403, `origin ${origin} is not one of this cluster's nodes`);
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("vary", "origin");
  }
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (req.method === "OPTIONS") {
    res.writeHead(204, {
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "content-type",
      "access-control-max-age": "600",
    });
    res.end();
    return;
  }
  if (req.method === "GET" && (path === "/" || path === "/nodes")) {
    reply(res, 200, { nodes: control.nodes(), partition: control.partition(), teach: control.teach });
    return;
  }
  if (req.method !== "POST") throw new ControlError("NOT_FOUND", 404, `no route ${req.method} ${path}`);
  // POSTs must be JSON (a browser preflights them), so a plain form elsewhere cannot send one.
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) {
    throw new ControlError("BAD_CONTENT_TYPE", 415, "send POST requests with content-type: application/json");
  }
  const body = await readBody(req);
  const m = /^\/nodes\/([^/]+)\/(kill|pause|resume|restart)$/.exec(path);
  if (m !== null) {
    const i = nodeIndex(control, m[1] as string);
    const action = m[2] as "kill" | "pause" | "resume" | "restart";
    if (action === "restart") await control.restart(i);
    else control[action](i);
    reply(res, 200, { ok: true, node: control.nodes()[i] });
    return;
  }
  switch (path) {
    case "/partition":
      control.setPartition(parseGroups(control, body));
      reply(res, 200, { ok: true, partition: control.partition() });
      return;
    case "/heal":
      control.heal();
      reply(res, 200, { ok: true, partition: [] });
      return;
    case "/chain/pause":
      control.pauseChain();
      reply(res, 200, { ok: true });
      return;
    case "/chain/resume":
      control.resumeChain();
      reply(res, 200, { ok: true });
      return;
    case "/chain/step":
      reply(res, 200, { ok: true, ...(await control.stepChain(30_000)) });
      return;
  }
  throw new ControlError("NOT_FOUND", 404, `no route POST ${path}`);
}
