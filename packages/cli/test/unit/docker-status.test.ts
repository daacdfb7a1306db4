// `cairn docker status`'s table.

import type { DockerNodeStatus } from "@cairn/cluster";
import { describe, expect, it } from "vitest";
import { formatDockerStatus } from "../../src/docker.ts";

describe("formatDockerStatus", () => {
  it("shows each node's container and API, and how to bring back the ones that do not answer", () => {
    const node = (i: number) => ({
      name: `node${i}`,
      role: "validator" as const,
      container: `cairn-x-node${i}`,
      ip: `10.213.0.1${i}`,
      apiPort: 26600 + i,
      url: `http://127.0.0.1:${26600 + i}`,
      volume: `cairn-x-node${i}-data`,
    });
    const status = {
      height: 7,
      blockTime: 1_000,
      role: "validator",
      consensus: { round: 0, step: "propose" },
      network: { peers: 2 },
      sync: { catchingUp: false },
    } as unknown as DockerNodeStatus["status"];
    const rows: DockerNodeStatus[] = [
      {
        node: node(0),
        container: { status: "running", health: "healthy", connected: true },
        ...(status ? { status } : {}),
      },
      { node: node(1), container: { status: "paused", connected: true }, error: "no answer within 2 s" },
      {
        node: node(2),
        container: { status: "running", health: "healthy", connected: false },
        error: "connection refused",
      },
      { node: node(3), container: { status: "exited", exitCode: 137, connected: true }, error: "connection refused" },
    ];
    const lines = formatDockerStatus(rows, "cairn-x", 3_000);
    expect(lines[0]).toMatch(/^NODE\s+CONTAINER\s+STATE\s+HEALTH\s+NETWORK\s+API/);
    expect(lines[1]).toMatch(
      /node0\s+cairn-x-node0\s+running\s+healthy\s+connected\s+http:\/\/127\.0\.0\.1:26600 up\s+validator\s+7/,
    );
    expect(lines[1]).toContain("2s ago");
    expect(lines[3]).toContain("cut off");
    expect(lines[4]).toContain("exited (137)");
    expect(lines).toContain("1 of 4 nodes answer (project cairn-x), heights 7..7");
    expect(lines).toContain("  node1: no answer within 2 s; cairn docker unpause node1");
    expect(lines).toContain("  node2: connection refused; cairn docker connect node2");
    expect(lines).toContain("  node3: connection refused; cairn docker start node3");
  });
});
