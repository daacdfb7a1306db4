import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register as globalRegister } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeMetrics, directorySize, type NetworkCounters, type NodeMetrics } from "../../src/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Samples of one metric as { "labels json": value }, read through a scrape. */
async function samples(m: NodeMetrics, name: string): Promise<Record<string, number>> {
  const all = await m.register.getMetricsAsJSON();
  const metric = all.find((x) => x.name === name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return Object.fromEntries(metric.values.map((v) => [JSON.stringify(v.labels), v.value]));
}

const stats = (over: Partial<NetworkCounters> = {}): NetworkCounters => ({
  peers: 0,
  members: 0,
  gossipPublished: 0,
  gossipBytesOut: 0,
  gossipAccepted: 0,
  gossipBytesIn: 0,
  gossipRejected: 0,
  gossipIgnored: 0,
  requestBytesOut: 0,
  requestBytesIn: 0,
  connectionsDenied: 0,
  dialFailures: 0,
  ...over,
});

describe("createNodeMetrics", () => {
  it("reads the layers' figures at scrape time", async () => {
    const state = {
      net: stats({ peers: 2, members: 4, gossipBytesIn: 10, requestBytesIn: 5, gossipRejected: 1 }),
      mempool: { size: 3, bytes: 300, maxSize: 1000 },
      consensus: { height: 8, round: 1, step: "prevote" },
      syncing: false,
    };
    const m = createNodeMetrics({
      defaultMetrics: false,
      sources: {
        network: () => state.net,
        mempool: () => state.mempool,
        consensus: () => state.consensus,
        ledgerHeight: () => state.consensus.height - 1,
        syncing: () => state.syncing,
      },
    });
    expect(await samples(m, "cairn_network_peers")).toEqual({ "{}": 2 });
    expect(await samples(m, "cairn_network_members")).toEqual({ "{}": 4 });
    expect(await samples(m, "cairn_network_received_bytes_total")).toEqual({
      '{"kind":"gossip"}': 10,
      '{"kind":"request"}': 5,
    });
    expect((await samples(m, "cairn_network_gossip_received_total"))['{"result":"rejected"}']).toBe(1);
    expect(await samples(m, "cairn_mempool_size")).toEqual({ "{}": 3 });
    expect(await samples(m, "cairn_consensus_height")).toEqual({ "{}": 8 });
    expect(await samples(m, "cairn_ledger_height")).toEqual({ "{}": 7 });
    expect(await samples(m, "cairn_consensus_step")).toEqual({ '{"step":"prevote"}': 1 });

    // The running totals of the network layer are mirrored, not added up scrape after scrape.
    state.net = stats({ peers: 1, members: 4, gossipBytesIn: 25, requestBytesIn: 5 });
    state.consensus = { height: 9, round: 0, step: "propose" };
    state.syncing = true;
    expect(await samples(m, "cairn_network_received_bytes_total")).toEqual({
      '{"kind":"gossip"}': 25,
      '{"kind":"request"}': 5,
    });
    expect(await samples(m, "cairn_network_peers")).toEqual({ "{}": 1 });
    // One step at a time: the previous one is gone.
    expect(await samples(m, "cairn_consensus_step")).toEqual({ '{"step":"propose"}': 1 });
    expect(await samples(m, "cairn_consensus_syncing")).toEqual({ "{}": 1 });
  });

  it("leaves metrics without a source at zero or without samples", async () => {
    const m = createNodeMetrics({ defaultMetrics: false });
    expect(await samples(m, "cairn_network_peers")).toEqual({ "{}": 0 });
    expect(await samples(m, "cairn_network_sent_bytes_total")).toEqual({});
    expect(await samples(m, "cairn_consensus_step")).toEqual({});
    expect(await samples(m, "cairn_storage_size_bytes")).toEqual({ "{}": 0 });
  });

  it("keeps each node's metrics in its own registry, never the global one", async () => {
    const a = createNodeMetrics();
    const b = createNodeMetrics();
    a.ledger.txsCommitted.inc({ code: "OK" }, 3);
    a.ledger.gasUsed.inc({ contract: "kv" }, 120);
    b.ledger.txsRejected.inc({ code: "DUPLICATE" });
    expect(await samples(a, "cairn_ledger_txs_committed_total")).toEqual({ '{"code":"OK"}': 3 });
    expect(await samples(b, "cairn_ledger_txs_committed_total")).toEqual({});
    expect(await samples(b, "cairn_ledger_txs_rejected_total")).toEqual({ '{"code":"DUPLICATE"}': 1 });
    expect(globalRegister.getSingleMetric("cairn_ledger_txs_committed_total")).toBeUndefined();
    expect(globalRegister.getSingleMetric("process_cpu_seconds_total")).toBeUndefined();
    // Both have the default process metrics.
    const { body, contentType } = await a.scrape();
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(body).toContain("process_resident_memory_bytes");
    expect(body).toContain('cairn_ledger_gas_used_total{contract="kv"} 120');
  });

  it("counts API requests by method, route and status", async () => {
    const m = createNodeMetrics({ defaultMetrics: false });
    m.api.observe({ method: "GET", route: "/status", status: 200, seconds: 0.002 });
    m.api.observe({ method: "GET", route: "/status", status: 200, seconds: 0.004 });
    m.api.observe({ method: "POST", route: "/txs", status: 413, seconds: 0.01 });
    expect(await samples(m, "cairn_api_requests_total")).toEqual({
      '{"method":"GET","route":"/status","status":"200"}': 2,
      '{"method":"POST","route":"/txs","status":"413"}': 1,
    });
    const { body } = await m.scrape();
    expect(body).toContain('cairn_api_request_duration_seconds_count{route="/status"} 2');
  });

  it("reports the data directory's size, recomputed at most once per cache period", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-metrics-"));
    dirs.push(dir);
    writeFileSync(join(dir, "000001.log"), new Uint8Array(100));
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "x.ldb"), new Uint8Array(50));
    expect(await directorySize(dir)).toBe(150);
    expect(await directorySize(join(dir, "missing"))).toBe(0);

    const cached = createNodeMetrics({ defaultMetrics: false, sources: { dataDir: dir }, storageCacheMs: 60_000 });
    const fresh = createNodeMetrics({ defaultMetrics: false, sources: { dataDir: dir }, storageCacheMs: 0 });
    expect(await samples(cached, "cairn_storage_size_bytes")).toEqual({ "{}": 150 });
    expect(await samples(fresh, "cairn_storage_size_bytes")).toEqual({ "{}": 150 });
    writeFileSync(join(dir, "000002.log"), new Uint8Array(25));
    await new Promise((r) => setTimeout(r, 5));
    expect(await samples(cached, "cairn_storage_size_bytes")).toEqual({ "{}": 150 });
    expect(await samples(fresh, "cairn_storage_size_bytes")).toEqual({ "{}": 175 });
  });

  it("labels cairn_node_info with what identifies the node", async () => {
    const m = createNodeMetrics({ defaultMetrics: false, info: { chain_id: "c", moniker: "n0", engine: "solo" } });
    expect(await samples(m, "cairn_node_info")).toEqual({ '{"chain_id":"c","moniker":"n0","engine":"solo"}': 1 });
  });
});
