import { describe, expect, it } from "vitest";
import { start } from "./helpers.ts";

describe("GET /metrics", () => {
  it("serves the backend's Prometheus exposition with its content type", async () => {
    const h = await start();
    await h.backend.submit([h.tx().bytes, h.tx().bytes]);
    await h.backend.produceBlock();
    await h.backend.submit([h.tx().bytes]);

    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const samples = new Map(
      text
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith("#"))
        .map((l) => {
          const i = l.lastIndexOf(" ");
          return [l.slice(0, i), Number(l.slice(i + 1))] as const;
        }),
    );
    expect(samples.get("cairn_ledger_height")).toBe(1);
    expect(samples.get("cairn_mempool_size")).toBe(1);
    expect(samples.get('cairn_ledger_txs_committed_total{code="OK"}')).toBe(2);
    expect(text).toContain("# TYPE cairn_ledger_txs_committed_total counter");
  });

  it("is public and ignores Accept: msgpack (Prometheus reads text only)", async () => {
    const h = await start();
    const res = await fetch(`${h.url}/metrics`, { headers: { accept: "application/msgpack" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toContain("cairn_ledger_height 0");
  });

  it("answers 404 NOT_FOUND when the backend exports no metrics", async () => {
    const h = await start();
    (h.backend as any).metrics = undefined;
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("NOT_FOUND");
  });

  it("answers 500 INTERNAL, not a partial body, when the scrape fails", async () => {
    const h = await start();
    h.backend.metrics = async () => {
      throw new Error("registry broke");
    };
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(500);
    expect((await res.json()).error.code).toBe("INTERNAL");
  });
});

describe("GET /ready", () => {
  it("answers 200 with ready: true and the backend's details", async () => {
    const h = await start();
    await h.backend.produceBlock();
    const res = await fetch(`${h.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, reasons: [], height: 1 });
  });

  it("answers 503 NOT_READY with machine-readable reasons and Retry-After", async () => {
    const h = await start({ retryAfterSeconds: 3 });
    h.backend.notReadyReasons = ["TOO_FEW_PEERS", "CATCHING_UP"];
    const res = await fetch(`${h.url}/ready`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("3");
    const body = await res.json();
    expect(body).toMatchObject({
      ready: false,
      code: "NOT_READY",
      reasons: ["TOO_FEW_PEERS", "CATCHING_UP"],
      height: 0,
      error: { code: "NOT_READY" },
    });
    expect(body.error.message).toContain("TOO_FEW_PEERS");
    // Alive all the same: /health is about the process, /ready about taking traffic.
    expect((await fetch(`${h.url}/health`)).status).toBe(200);

    h.backend.notReadyReasons = [];
    expect((await fetch(`${h.url}/ready`)).status).toBe(200);
  });

  it("is not ready while the node is unhealthy", async () => {
    const h = await start();
    h.backend.ready = false;
    const res = await fetch(`${h.url}/ready`);
    expect(res.status).toBe(503);
    expect((await res.json()).reasons).toEqual(["NOT_HEALTHY"]);
  });

  it("falls back to healthy() for a backend without readiness()", async () => {
    const h = await start();
    (h.backend as any).readiness = undefined;
    let res = await fetch(`${h.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, reasons: [] });
    h.backend.ready = false;
    res = await fetch(`${h.url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, code: "NOT_READY", reasons: ["NOT_HEALTHY"] });
  });

  it("can be had as msgpack like any other JSON route", async () => {
    const h = await start();
    const res = await fetch(`${h.url}/ready`, { headers: { accept: "application/msgpack" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/msgpack/);
  });
});

describe("telemetry.request", () => {
  it("reports each answered request with its route pattern, status and duration", async () => {
    const seen: { method: string; route: string; status: number; seconds: number }[] = [];
    const h = await start({ telemetry: { request: (r) => void seen.push(r), trace() {} } });
    const tx = h.tx();
    await h.backend.submit([tx.bytes]);
    await fetch(`${h.url}/txs/${Buffer.from(tx.hash).toString("hex")}`);
    await fetch(`${h.url}/no/such/route`);
    await fetch(`${h.url}/ready`);
    // The hook runs after the response is sent: wait for the last one.
    for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map(({ method, route, status }) => ({ method, route, status }))).toEqual([
      { method: "GET", route: "/txs/:hash", status: 200 },
      { method: "GET", route: "unmatched", status: 404 },
      { method: "GET", route: "/ready", status: 200 },
    ]);
    for (const r of seen) expect(r.seconds).toBeGreaterThanOrEqual(0);
  });
});
