import { describe, expect, it } from "vitest";
import { metricSum, parseNodeMetrics } from "../../src/metrics.ts";

const TEXT = `# HELP cairn_network_sent_bytes_total Application payload bytes sent to peers
# TYPE cairn_network_sent_bytes_total counter
cairn_network_sent_bytes_total{kind="gossip"} 1000
cairn_network_sent_bytes_total{kind="request"} 24
cairn_network_sent_bytes_totally_other 5
cairn_network_received_bytes_total{kind="gossip"} 3000
cairn_storage_size_bytes 1048576
process_cpu_seconds_total 12.5
process_resident_memory_bytes 2.5e8
cairn_consensus_messages_total{direction="sent"} 40
cairn_consensus_messages_total{direction="received"} 120
cairn_consensus_message_bytes_total{direction="sent"} 9000
cairn_consensus_message_bytes_total{direction="received"} 27000
`;

describe("node metrics", () => {
  it("sums a metric over its label sets and ignores other names sharing its prefix", () => {
    expect(metricSum(TEXT, "cairn_network_sent_bytes_total")).toBe(1024);
    expect(metricSum(TEXT, "cairn_network_peers")).toBeNaN();
  });

  it("reads the figures the report needs", () => {
    expect(parseNodeMetrics(TEXT)).toEqual({
      netSentBytes: 1024,
      netReceivedBytes: 3000,
      storageBytes: 1048576,
      cpuSec: 12.5,
      rssBytes: 2.5e8,
      consensusSent: 40,
      consensusSentBytes: 9000,
    });
  });

  it("sums only the samples whose labels match", () => {
    expect(metricSum(TEXT, "cairn_consensus_messages_total", 'direction="received"')).toBe(120);
    expect(metricSum(TEXT, "cairn_consensus_messages_total")).toBe(160);
  });
});
