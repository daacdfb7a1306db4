// The few Prometheus metrics of a node's GET /metrics the benchmark reads (docs/metrics.md): the
// peer-to-peer payload bytes, the data directory's size, and the process's CPU and memory (for
// targets whose processes the benchmark cannot see).

export interface NodeMetrics {
  readonly netSentBytes: number;
  readonly netReceivedBytes: number;
  readonly storageBytes: number;
  readonly cpuSec: number;
  readonly rssBytes: number;
  /** Consensus messages (and bytes) this node has sent (cairn_consensus_messages_total{direction="sent"}). */
  readonly consensusSent: number;
  readonly consensusSentBytes: number;
}

/**
 * Sum of every sample of `name` (all label sets, or those whose labels include `label`, such as
 * 'direction="sent"') in a Prometheus text exposition; NaN if absent.
 */
export function metricSum(text: string, name: string, label?: string): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    if (label !== undefined && !rest.slice(0, rest.indexOf("}") + 1).includes(label)) continue;
    const value = Number(
      rest
        .slice(rest.lastIndexOf("}") + 1)
        .trim()
        .split(/\s+/)[0],
    );
    if (Number.isFinite(value)) {
      sum += value;
      seen = true;
    }
  }
  return seen ? sum : Number.NaN;
}

export function parseNodeMetrics(text: string): NodeMetrics {
  return {
    netSentBytes: metricSum(text, "cairn_network_sent_bytes_total"),
    netReceivedBytes: metricSum(text, "cairn_network_received_bytes_total"),
    storageBytes: metricSum(text, "cairn_storage_size_bytes"),
    cpuSec: metricSum(text, "process_cpu_seconds_total"),
    rssBytes: metricSum(text, "process_resident_memory_bytes"),
    consensusSent: metricSum(text, "cairn_consensus_messages_total", 'direction="sent"'),
    consensusSentBytes: metricSum(text, "cairn_consensus_message_bytes_total", 'direction="sent"'),
  };
}

/** GET /metrics of a node, parsed; undefined when it does not answer within `timeoutMs`. */
export async function fetchNodeMetrics(url: string, timeoutMs = 3000): Promise<NodeMetrics | undefined> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return parseNodeMetrics(await res.text());
  } catch {
    return undefined;
  }
}
