// The console's one poller: once a second it reads the home node's status, metrics, consensus
// events and log lines, and every known node's status, and publishes a snapshot the views draw.
// Everything it keeps is bounded (the last events and lines, two metric samples), so a page left
// open for hours holds the same memory as after a minute.
import type {
  CollectionInfo,
  ConsensusEventInfo,
  LogLineInfo,
  Metrics,
  OrganizationInfo,
  StatusInfo,
} from "@cairn/client";
import { CairnApiError } from "@cairn/client";
import { useState } from "preact/hooks";
import { errorText } from "./format.ts";
import { type NodeRef, session, setNodes } from "./session.ts";
import { Store } from "./store.ts";

export const EVENTS_KEPT = 1_500;
export const LINES_KEPT = 400;
const POLL_MS = 1_000;

export interface NodeView {
  readonly name: string;
  readonly url: string;
  readonly status?: StatusInfo;
  readonly error?: string;
  /** performance.now() of the last answer. */
  readonly seenAt?: number;
}

export interface ControlNode {
  readonly name: string;
  readonly url: string;
  readonly pid?: number;
  readonly state: string;
}

export interface Snapshot {
  readonly status?: StatusInfo;
  readonly statusError?: string;
  readonly metrics?: Metrics;
  /** Per-second rates of counters between the last two metric samples. */
  readonly rates: Readonly<Record<string, number>>;
  readonly events: readonly ConsensusEventInfo[];
  readonly eventsError?: string;
  readonly lines: readonly LogLineInfo[];
  readonly linesError?: string;
  readonly nodes: readonly NodeView[];
  readonly control?: {
    readonly nodes: readonly ControlNode[];
    readonly partition: readonly (readonly number[])[];
    readonly teach: boolean;
  };
  readonly controlError?: string;
  readonly organizations?: readonly OrganizationInfo[];
  /** Private data collections (docs/privacy.md). */
  readonly collections?: readonly CollectionInfo[];
  /** Whether the chain refused an unsigned read (a members-only chain). */
  readonly readsNeedKey: boolean;
  readonly updatedAt: number;
}

export const snapshot = new Store<Snapshot>({
  rates: {},
  events: [],
  lines: [],
  nodes: [],
  readsNeedKey: false,
  updatedAt: 0,
});

/** The counters whose per-second rate the map shows. */
const RATE_COUNTERS = [
  "cairn_network_received_bytes_total",
  "cairn_network_sent_bytes_total",
  "cairn_network_gossip_received_total",
  "cairn_network_gossip_published_total",
  "cairn_mempool_verified_total",
  "cairn_mempool_admitted_total",
  "cairn_storage_writes_total",
  "cairn_ledger_blocks_committed_total",
  "cairn_ledger_txs_committed_total",
  "cairn_ledger_txs_rejected_total",
  "cairn_ledger_gas_used_total",
  "cairn_api_requests_total",
  "cairn_consensus_round_changes_total",
  "cairn_log_lines_total",
];

let previous: { at: number; metrics: Metrics } | undefined;
let eventsAfter = 0;
let linesAfter = 0;
let lastHomeUrl = "";
let lastKey: unknown;
let ticks = 0;

const denied = (err: unknown) => err instanceof CairnApiError && (err.status === 401 || err.status === 403);

async function pollHome(home: NodeRef, s: Snapshot): Promise<Partial<Snapshot>> {
  const out: { -readonly [K in keyof Snapshot]?: Snapshot[K] } = {};
  let readsNeedKey = s.readsNeedKey;
  const [status, metrics, events, lines] = await Promise.allSettled([
    home.client.status(),
    home.client.metrics(),
    home.client.consensusEvents({ after: eventsAfter }),
    home.client.logs({ after: linesAfter, limit: LINES_KEPT }),
  ]);
  if (status.status === "fulfilled") {
    out.status = status.value;
    out.statusError = undefined;
  } else out.statusError = errorText(status.reason);
  if (metrics.status === "fulfilled") {
    const now = performance.now();
    const m = metrics.value;
    if (previous !== undefined && now > previous.at) {
      const dt = (now - previous.at) / 1000;
      const rates: Record<string, number> = {};
      for (const name of RATE_COUNTERS) rates[name] = Math.max(0, (m.sum(name) - previous.metrics.sum(name)) / dt);
      out.rates = rates;
    }
    previous = { at: now, metrics: m };
    out.metrics = m;
  }
  if (events.status === "fulfilled") {
    // A node restarted (its sequence numbers start again): begin afresh.
    if (events.value.last < eventsAfter) eventsAfter = 0;
    const fresh = events.value.events;
    eventsAfter = events.value.last;
    out.events = [...s.events, ...fresh].slice(-EVENTS_KEPT);
    out.eventsError = undefined;
  } else {
    out.eventsError = errorText(events.reason);
    if (denied(events.reason)) readsNeedKey = true;
  }
  if (lines.status === "fulfilled") {
    if (lines.value.last < linesAfter) linesAfter = 0;
    linesAfter = lines.value.last;
    out.lines = [...s.lines, ...lines.value.lines].slice(-LINES_KEPT);
    out.linesError = undefined;
  } else {
    out.linesError = errorText(lines.reason);
    if (denied(lines.reason)) readsNeedKey = true;
  }
  // Members and roles change rarely: every 10 s.
  if (ticks % 10 === 0) {
    try {
      out.organizations = await home.client.gov.organizations();
      out.collections = await home.client.gov.collections();
    } catch (err) {
      if (denied(err)) readsNeedKey = true;
    }
  }
  out.readsNeedKey = readsNeedKey;
  return out;
}

async function pollNodes(
  nodes: readonly NodeRef[],
  home: NodeRef,
  homeStatus: StatusInfo | undefined,
): Promise<NodeView[]> {
  return Promise.all(
    nodes.map(async (n): Promise<NodeView> => {
      if (n.url === home.url && homeStatus !== undefined) {
        return { name: n.name, url: n.url, status: homeStatus, seenAt: performance.now() };
      }
      try {
        const status = await n.client.status();
        return { name: n.name, url: n.url, status, seenAt: performance.now() };
      } catch (err) {
        return { name: n.name, url: n.url, error: errorText(err) };
      }
    }),
  );
}

async function pollControl(url: string): Promise<Snapshot["control"]> {
  const r = await fetch(`${url}/nodes`, { signal: AbortSignal.timeout(2_000) });
  if (!r.ok) throw new Error(`the cluster control endpoint answered ${r.status}`);
  const body = (await r.json()) as NonNullable<Snapshot["control"]>;
  setNodes(body.nodes.map((n) => ({ name: n.name, url: n.url })));
  return body;
}

/** Sends one command to the local cluster's control endpoint; throws its error message. */
export async function controlCommand(path: string, body: unknown = {}): Promise<unknown> {
  const url = session.get().control;
  if (url === undefined) throw new Error("this node does not run under `cairn cluster`: there is no control endpoint");
  let r: Response;
  try {
    r = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(
      `cannot reach the cluster control endpoint ${url}: ${errorText(err)} (is \`cairn cluster\` still running?)`,
    );
  }
  const answer = (await r.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!r.ok) throw new Error(answer.error?.message ?? `the control endpoint answered ${r.status}`);
  return answer;
}

/**
 * A view's control buttons: `act(label, path, body)` sends the command, `busy` is true meanwhile,
 * and `message` says how it went ("Kill node3: done", "Step: the chain reached height 9", or why it failed).
 */
export function useControl(): {
  busy: boolean;
  message: string | undefined;
  setMessage: (m: string | undefined) => void;
  act: (label: string, path: string, body?: unknown) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const act = async (label: string, path: string, body?: unknown) => {
    setBusy(true);
    try {
      const r = (await controlCommand(path, body)) as { height?: number };
      setMessage(r.height === undefined ? `${label}: done` : `${label}: the chain reached height ${r.height}`);
    } catch (err) {
      setMessage(`${label} failed: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return { busy, message, setMessage, act };
}

async function tick(): Promise<void> {
  const ses = session.get();
  // A new key (or none): the buffers were read as someone else; start again.
  if (ses.home.url !== lastHomeUrl || ses.key !== lastKey) {
    lastHomeUrl = ses.home.url;
    lastKey = ses.key;
    eventsAfter = 0;
    linesAfter = 0;
    snapshot.update((s) => ({ ...s, events: [], lines: [], readsNeedKey: false }));
  }
  const s = snapshot.get();
  const home = await pollHome(ses.home, s);
  let control = s.control;
  let controlError: string | undefined;
  if (ses.control !== undefined) {
    try {
      control = await pollControl(ses.control);
    } catch (err) {
      controlError = errorText(err);
    }
  }
  const current = session.get();
  const nodes = await pollNodes(current.nodes, current.home, home.status);
  ticks++;
  snapshot.set({ ...snapshot.get(), ...home, nodes, control, controlError, updatedAt: Date.now() });
}

let running = false;

/** Starts polling (once); each round waits for the last, so a slow node never piles requests up. */
export function startMonitor(): void {
  if (running) return;
  running = true;
  const loop = async () => {
    const started = performance.now();
    try {
      await tick();
    } catch (err) {
      snapshot.update((s) => ({ ...s, statusError: errorText(err) }));
    }
    setTimeout(loop, Math.max(100, POLL_MS - (performance.now() - started)));
  };
  void loop();
}
