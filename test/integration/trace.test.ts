// A transaction's journey through the layers of a real node: every trace point a solo node passes
// (received, decoded, verified, admitted, proposed, executed, committed, streamed), in that order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@cairn/client";
import { createTestnet, freePort } from "@cairn/cluster";
import { toHex } from "@cairn/crypto";
import { createLoggers } from "@cairn/management";
import { type CairnNode, initHome, startNode } from "@cairn/node";
import { afterEach, describe, expect, it } from "vitest";
import { kvPut } from "../helpers/txs.ts";
import { until } from "../helpers/wait.ts";

let node: CairnNode | undefined;
let dir: string | undefined;
afterEach(async () => {
  await node?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("transaction trace points", () => {
  it("follows a transaction from the API through the mempool and consensus to the event stream", async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-trace-"));
    const home = join(dir, "node");
    const { admin } = await initHome({ home, chainId: "trace", apiPort: 0 });
    node = await startNode({
      home,
      config: { verifyWorkers: 1 },
      loggers: createLoggers({ level: "silent", pretty: false }),
    });
    // A reader on the event stream, so the block is streamed.
    const events = await fetch(`${node.apiUrl}/events`);
    const reader = events.body?.getReader();
    const tx = kvPut(admin, "trace", "k", "v", 100);
    const res = await fetch(`${node.apiUrl}/txs?wait=commit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ txs: [toHex(tx.bytes)] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const hex = toHex(tx.hash);
    const tracer = node.tracer;
    await until(() => tracer.journey(hex).marks.some((m) => m.point === "streamed"), 10_000, "the block streamed");
    const j = tracer.journey(hex);
    expect(j.marks.map((m) => m.point)).toEqual([
      "received",
      "decoded",
      "verified",
      "admitted",
      "proposed",
      "executed",
      "committed",
      "streamed",
    ]);
    expect(j.height).toBe(1);
    expect(tracer.between(hex, "admitted", "committed")).toBeGreaterThanOrEqual(0);
    // The same journey over HTTP, in wall-clock microseconds.
    const trace = await (await fetch(`${node.apiUrl}/txs/${hex}/trace`)).json();
    expect(trace.hash).toBe(hex);
    expect(trace.height).toBe(1);
    expect(trace.points.map((p: { point: string }) => p.point)).toEqual(j.marks.map((m) => m.point));
    const times = trace.points.map((p: { timeUs: number }) => p.timeUs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs(times[0] / 1000 - Date.now())).toBeLessThan(60_000);
    const viaSdk = await createClient({ url: node.apiUrl }).getTxTrace(tx.hash);
    expect(viaSdk.points.map((p) => p.point)).toEqual(trace.points.map((p: { point: string }) => p.point));
    const unknown = await fetch(`${node.apiUrl}/txs/${"ab".repeat(32)}/trace`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("TRACE_NOT_FOUND");
    await reader?.cancel();
  });
});

describe("trace points on every validator", () => {
  const nodes: CairnNode[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop();
  });

  it("a validator that got the transaction by gossip has its journey too, without received and gossiped", {
    timeout: 60_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-trace-bft-"));
    const net = await createTestnet({ validators: 2, out: join(dir, "net"), basePort: await freePort() });
    for (const home of net.homes) {
      nodes.push(
        await startNode({
          home,
          config: { verifyWorkers: 1, apiPort: 0 },
          loggers: createLoggers({ level: "silent", pretty: false }),
        }),
      );
    }
    const [n0, n1] = nodes as [CairnNode, CairnNode];
    const { admin } = net;
    const tx = kvPut(admin, n0.genesis.chainId, "k", "v", 200);
    // Sent until both validators are connected and it commits (the first may go out before they are).
    const hex = toHex(tx.hash);
    await until(
      async () => {
        await fetch(`${n0.apiUrl}/txs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ tx: toHex(tx.bytes) }),
        });
        return (await fetch(`${n1.apiUrl}/txs/${hex}`)).status === 200 && n1.ledger.head().height > 0;
      },
      30_000,
      "the transaction committed on both validators",
      500,
    );
    await until(() => n1.tracer.reached(hex, "committed"), 10_000, "node1's committed point");
    const points = (await (await fetch(`${n1.apiUrl}/txs/${hex}/trace`)).json()).points.map(
      (p: { point: string }) => p.point,
    );
    expect(points).not.toContain("received");
    expect(points).not.toContain("gossiped");
    for (const p of ["decoded", "verified", "admitted", "executed", "voted", "committed"]) expect(points).toContain(p);
    const first = n0.tracer.journey(hex).marks.map((m) => m.point);
    expect(first.slice(0, 4)).toEqual(["received", "decoded", "verified", "admitted"]);
    expect(first).toContain("committed");

    // The consensus events of that block's height on node1 (GET /consensus/events, the console's
    // consensus view): the proposal, both validators' prevotes and precommits, the commit, each once.
    const height = (await (await fetch(`${n1.apiUrl}/txs/${hex}`)).json()).height as number;
    const { events } = await (await fetch(`${n1.apiUrl}/consensus/events`)).json();
    const at = events.filter((e: { height: number }) => e.height === height);
    const votes = (type: string) =>
      at
        .filter((e: { kind: string; type?: string }) => e.kind === "vote" && e.type === type)
        .map((e: { validator: string }) => e.validator)
        .sort();
    const keys = n1.genesis.validators.map((v) => toHex(v.publicKey)).sort();
    expect(votes("prevote")).toEqual(keys);
    expect(votes("precommit")).toEqual(keys);
    expect(at.filter((e: { kind: string }) => e.kind === "proposal")).toHaveLength(1);
    expect(at.find((e: { kind: string }) => e.kind === "commit")).toMatchObject({ height, txs: 1 });
    expect(at.some((e: { kind: string; step?: string }) => e.kind === "step" && e.step === "precommit")).toBe(true);
    // Sequence numbers increase with time.
    const seqs = events.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => a - b));
  });
});
