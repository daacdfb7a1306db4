// A transaction's journey through the layers of a real node: every trace point a solo node passes
// (received, decoded, verified, admitted, proposed, executed, committed, streamed), in that order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@cairn/client";
import { toHex } from "@cairn/crypto";
import { createLoggers } from "@cairn/management";
import { signTransaction } from "@cairn/messaging";
import { type CairnNode, initHome, startNode } from "@cairn/node";
import { afterEach, describe, expect, it } from "vitest";
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
    const tx = signTransaction(
      {
        chainId: "trace",
        sender: admin.publicKey,
        nonce: crypto.getRandomValues(new Uint8Array(16)),
        expiry: 100,
        contract: "kv",
        method: "put",
        args: [new TextEncoder().encode("k"), new TextEncoder().encode("v")],
      },
      admin.secretKey,
    );
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
