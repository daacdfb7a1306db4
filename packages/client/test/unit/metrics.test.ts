import { describe, expect, it } from "vitest";
import { Metrics, parseMetrics } from "../../src/index.ts";

const TEXT = `# HELP cairn_ledger_txs_committed_total Transactions committed
# TYPE cairn_ledger_txs_committed_total counter
cairn_ledger_txs_committed_total{code="OK"} 12
cairn_ledger_txs_committed_total{code="OUT_OF_GAS"} 3
cairn_ledger_height 41
cairn_consensus_block_interval_seconds_bucket{le="+Inf"} 40
cairn_node_info{chain_id="a \\"quoted\\" id",moniker="node0"} 1
cairn_weird +Inf
not a sample line
`;

describe("parseMetrics", () => {
  it("reads samples with their labels (escapes included) and skips comments and junk", () => {
    const samples = parseMetrics(TEXT);
    expect(samples).toContainEqual({ name: "cairn_ledger_height", labels: {}, value: 41 });
    expect(samples).toContainEqual({
      name: "cairn_node_info",
      labels: { chain_id: 'a "quoted" id', moniker: "node0" },
      value: 1,
    });
    expect(samples).toContainEqual({ name: "cairn_weird", labels: {}, value: Number.POSITIVE_INFINITY });
    expect(samples).toHaveLength(6);
  });

  it("sums a metric's samples, optionally those whose labels match", () => {
    const m = new Metrics(parseMetrics(TEXT));
    expect(m.sum("cairn_ledger_txs_committed_total")).toBe(15);
    expect(m.sum("cairn_ledger_txs_committed_total", { code: "OK" })).toBe(12);
    expect(m.sum("cairn_missing")).toBe(0);
    expect(m.has("cairn_ledger_height")).toBe(true);
    expect(m.all("cairn_ledger_txs_committed_total")).toHaveLength(2);
  });
});
