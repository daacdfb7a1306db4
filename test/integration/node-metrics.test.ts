// Monitoring of a real node: GET /metrics parsed by a real Prometheus text-format parser, and
// GET /ready for a solo node and for a two-member BFT network.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestnet, freePort } from "@cairn/cluster";
import { keyPairFromSecret, toHex } from "@cairn/crypto";
import { createLoggers, directorySize } from "@cairn/management";
import { type SignedTransaction, signTransaction } from "@cairn/messaging";
import { assessReadiness, type CairnNode, initHome, startNode } from "@cairn/node";
import { afterEach, describe, expect, it } from "vitest";

/** A metric family as parse-prometheus-text-format returns it (prom2json's shape). */
interface Family {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}
// The package ships no type declarations: load it through require with the shape above.
const parsePrometheusTextFormat = createRequire(import.meta.url)("parse-prometheus-text-format") as (
  text: string,
) => Family[];

const homes: string[] = [];
const nodes: CairnNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

const silent = () => createLoggers({ level: "silent", pretty: false });

async function soloNode() {
  const home = mkdtempSync(join(tmpdir(), "cairn-metrics-"));
  homes.push(home);
  // Solo cuts a block 50 ms after the first pending transaction: two waited batches make two blocks.
  const init = await initHome({ home, apiPort: 0 });
  const node = await startNode({ home, config: { verifyWorkers: 1 }, loggers: silent() });
  nodes.push(node);
  return { node, init, home };
}

let n = 0;
function put(secret: Uint8Array, chainId: string): SignedTransaction {
  const key = keyPairFromSecret(secret);
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  crypto.getRandomValues(nonce.subarray(4));
  const enc = new TextEncoder();
  return signTransaction(
    {
      chainId,
      sender: key.publicKey,
      nonce,
      expiry: 500,
      contract: "kv",
      method: "put",
      args: [enc.encode(`k${n}`), enc.encode(`v${n}`)],
    },
    key.secretKey,
  );
}

async function postTxs(url: string, txs: SignedTransaction[]): Promise<any> {
  const res = await fetch(`${url}/txs?wait=commit&timeout=10000`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ txs: txs.map((t) => toHex(t.bytes)) }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text());
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of the sample of `name` whose labels include `labels`. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name);
  if (f === undefined) throw new Error(`no metric family ${name}`);
  const m = f.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  if (m === undefined) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
  return Number(m.value);
}

describe("GET /metrics of a solo node", () => {
  it("exports every layer's metrics in the Prometheus text format", async () => {
    const { node, init, home } = await soloNode();
    const first = Array.from({ length: 5 }, () => put(init.admin.secretKey, init.chainId));
    const second = Array.from({ length: 3 }, () => put(init.admin.secretKey, init.chainId));
    const a = await postTxs(node.apiUrl, first);
    expect(a.committed).toBe(5);
    const b = await postTxs(node.apiUrl, second);
    expect(b.committed).toBe(3);
    // Admission rejects: the same envelope again, and one signed for another chain.
    const dup = await postTxs(node.apiUrl, [first[0]!, put(init.admin.secretKey, "another-chain")]);
    expect(dup.results.map((r: any) => r.error?.code)).toEqual(["DUPLICATE", "WRONG_CHAIN"]);

    const head = node.ledger.head().height;
    expect(head).toBeGreaterThanOrEqual(2);
    let gas = 0;
    for (let h = 1; h <= head; h++) for (const r of (await node.ledger.getReceipts(h)) ?? []) gas += r.gasUsed;

    const m = await scrape(node.apiUrl);

    // ledger
    expect(m.get("cairn_ledger_txs_committed_total")?.type).toBe("COUNTER");
    expect(value(m, "cairn_ledger_txs_committed_total", { code: "OK" })).toBeGreaterThanOrEqual(8);
    expect(value(m, "cairn_ledger_txs_rejected_total", { code: "DUPLICATE" })).toBe(1);
    expect(value(m, "cairn_ledger_txs_rejected_total", { code: "WRONG_CHAIN" })).toBe(1);
    expect(value(m, "cairn_ledger_blocks_committed_total")).toBe(head);
    expect(value(m, "cairn_ledger_height")).toBe(head);
    expect(gas).toBeGreaterThan(0);
    expect(value(m, "cairn_ledger_gas_used_total", { contract: "kv" })).toBe(gas);

    // consensus
    expect(value(m, "cairn_consensus_height")).toBeGreaterThanOrEqual(1);
    expect(value(m, "cairn_consensus_height")).toBe(head + 1);
    expect(value(m, "cairn_consensus_round")).toBe(0);
    expect(value(m, "cairn_consensus_round_changes_total")).toBe(0);
    const steps = m.get("cairn_consensus_step")!.metrics;
    expect(steps).toHaveLength(1);
    expect(steps[0]!.value).toBe("1");
    expect(["idle", "collecting", "executing", "committing"]).toContain(steps[0]!.labels?.step);
    const latency = m.get("cairn_consensus_commit_latency_seconds")!;
    expect(latency.type).toBe("HISTOGRAM");
    expect(Number(latency.metrics[0]!.count)).toBe(8);
    expect(Number(latency.metrics[0]!.sum)).toBeGreaterThan(0);
    // Each wait=commit returned within its 10 s timeout: every latency is in a bucket below it.
    expect(Number(latency.metrics[0]!.buckets!["10"])).toBe(8);
    const interval = m.get("cairn_consensus_block_interval_seconds")!;
    expect(interval.type).toBe("HISTOGRAM");
    expect(Number(interval.metrics[0]!.count)).toBe(head - 1);
    expect(value(m, "cairn_consensus_syncing")).toBe(0);

    // mempool, network (none on a solo node), storage, api, node info
    expect(value(m, "cairn_mempool_size")).toBe(0);
    expect(value(m, "cairn_mempool_bytes")).toBe(0);
    expect(value(m, "cairn_mempool_max_size")).toBe(node.mempool.maxSize);
    expect(value(m, "cairn_network_peers")).toBe(0);
    const storage = value(m, "cairn_storage_size_bytes");
    expect(storage).toBeGreaterThan(0);
    const onDisk = await directorySize(join(home, "data"));
    expect(storage).toBeGreaterThan(onDisk / 2);
    expect(storage).toBeLessThan(onDisk * 2);
    expect(value(m, "cairn_api_requests_total", { method: "POST", route: "/txs", status: "200" })).toBe(3);
    expect(value(m, "cairn_node_info", { chain_id: init.chainId, engine: "solo" })).toBe(1);

    // prom-client's default process and Node.js metrics
    expect(value(m, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(value(m, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(m.has("nodejs_eventloop_lag_seconds")).toBe(true);
    expect(m.has("nodejs_heap_size_used_bytes")).toBe(true);

    // The scrape itself was counted, by route pattern.
    const again = await scrape(node.apiUrl);
    expect(value(again, "cairn_api_requests_total", { route: "/metrics", status: "200" })).toBeGreaterThanOrEqual(1);
  });

  it("keeps the metrics of two nodes in one process apart", async () => {
    const one = await soloNode();
    const two = await soloNode();
    await postTxs(one.node.apiUrl, [put(one.init.admin.secretKey, one.init.chainId)]);
    const m1 = await scrape(one.node.apiUrl);
    const m2 = await scrape(two.node.apiUrl);
    expect(value(m1, "cairn_ledger_txs_committed_total", { code: "OK" })).toBe(1);
    expect(m2.get("cairn_ledger_txs_committed_total")!.metrics).toHaveLength(0);
    expect(value(m2, "cairn_ledger_height")).toBe(0);
  });
});

describe("GET /ready", () => {
  it("a solo node is ready once started", async () => {
    const { node } = await soloNode();
    const res = await fetch(`${node.apiUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, reasons: [], height: 0 });
  });

  it("a BFT node is not ready until it and its peers are more than 2/3 of the members", {
    timeout: 60_000,
  }, async () => {
    const out = mkdtempSync(join(tmpdir(), "cairn-ready-"));
    homes.push(out);
    const basePort = await freePort();
    const net = await createTestnet({ validators: 2, out: join(out, "net"), basePort });
    const start = (home: string) =>
      startNode({ home, config: { verifyWorkers: 1, apiPort: 0 }, loggers: silent() }).then((node) => {
        nodes.push(node);
        return node;
      });

    const node0 = await start(net.homes[0]!);
    const alone = await fetch(`${node0.apiUrl}/ready`);
    expect(alone.status).toBe(503);
    expect(await alone.json()).toMatchObject({
      ready: false,
      code: "NOT_READY",
      reasons: ["TOO_FEW_PEERS"],
      reachable: 1,
      members: 2,
      needed: 2,
    });

    const node1 = await start(net.homes[1]!);
    const deadline = Date.now() + 20_000;
    let bodies: any[] = [];
    while (Date.now() < deadline) {
      const answers = await Promise.all([node0, node1].map((nd) => fetch(`${nd.apiUrl}/ready`)));
      bodies = await Promise.all(answers.map((r) => r.json()));
      if (answers.every((r) => r.status === 200)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const body of bodies) expect(body).toMatchObject({ ready: true, reasons: [], reachable: 2, needed: 2 });

    const m = await scrape(node0.apiUrl);
    expect(value(m, "cairn_network_peers")).toBe(1);
    expect(value(m, "cairn_network_members")).toBe(2);
    expect(value(m, "cairn_node_info", { engine: "tendermint" })).toBe(1);
  });
});

describe("assessReadiness", () => {
  const members = ["self", "a", "b", "c"];
  const base = { running: true, consensusStep: "propose", catchingUp: false };

  it("needs more than 2/3 of the members reachable, counting this node", () => {
    expect(assessReadiness({ ...base, network: { peers: ["a"], members } })).toMatchObject({
      ready: false,
      reasons: ["TOO_FEW_PEERS"],
      reachable: 2,
      members: 4,
      needed: 3,
    });
    expect(assessReadiness({ ...base, network: { peers: ["a", "b"], members } }).ready).toBe(true);
    // Of 3 members, 2 are exactly 2/3: not more.
    expect(assessReadiness({ ...base, network: { peers: ["a"], members: ["self", "a", "b"] } }).ready).toBe(false);
    // A lone member is its own quorum.
    expect(assessReadiness({ ...base, network: { peers: [], members: ["self"] } }).ready).toBe(true);
    // Peers that are not members do not count.
    expect(assessReadiness({ ...base, network: { peers: ["x", "y", "a"], members } }).reachable).toBe(2);
  });

  it("reports every reason at once; a node without a network needs only to run", () => {
    expect(assessReadiness(base)).toEqual({ ready: true, reasons: [] });
    expect(
      assessReadiness({
        running: false,
        consensusStep: "stopped",
        catchingUp: true,
        network: { peers: [], members },
      }).reasons,
    ).toEqual(["SHUTTING_DOWN", "CONSENSUS_STOPPED", "TOO_FEW_PEERS", "CATCHING_UP"]);
  });

  it("is not ready after a storage failure, when validators are well ahead, or when no block came for too long", () => {
    expect(assessReadiness({ ...base, consensusStep: "halted" }).reasons).toEqual(["STORAGE_FAILED"]);
    // One or two heights behind is normal pipelining; more is not.
    expect(assessReadiness({ ...base, behindBy: 2 }).ready).toBe(true);
    expect(assessReadiness({ ...base, behindBy: 3 }).reasons).toEqual(["BEHIND"]);
    expect(assessReadiness({ ...base, stalled: true }).reasons).toEqual(["STALLED"]);
  });
});
