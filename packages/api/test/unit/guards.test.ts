// A hostile client against a real HTTP server, with real sockets: a body trickled or never sent is
// cut off, connections are capped per node and per client address, and writes are rate limited,
// each with a stable error code. The limits are set low here so each test is quick.
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { defaultApiGuards, WriteLimiter } from "../../src/index.ts";
import { start } from "./helpers.ts";

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.on("error", reject);
  });
}

/** Everything the server sends until it closes the connection (or `ms` pass). */
function readAll(s: Socket, ms: number): Promise<{ text: string; closed: boolean; afterMs: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let text = "";
    const done = (closed: boolean) => resolve({ text, closed, afterMs: Date.now() - t0 });
    const timer = setTimeout(() => done(false), ms);
    s.on("data", (d) => (text += d));
    s.on("close", () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

const body = (text: string) => JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));

describe("API guards against hostile clients", () => {
  it("cuts off a request whose body is trickled, or declared and never sent, with 408 REQUEST_TIMEOUT", async () => {
    const h = await start({ guards: { requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 } });
    // Headers, then a declared body that never comes.
    const a = await open(h.url);
    a.write("POST /txs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{");
    // Headers, then a chunked body trickling a byte every 200 ms.
    const b = await open(h.url);
    b.write("POST /txs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
    const trickle = setInterval(() => b.writable && b.write("1\r\n \r\n"), 200);
    const [ra, rb] = await Promise.all([readAll(a, 10_000), readAll(b, 10_000)]);
    clearInterval(trickle);
    for (const r of [ra, rb]) {
      expect(r.closed).toBe(true);
      // Node checks its request timeout every few seconds: bounded, not forever.
      expect(r.afterMs).toBeLessThan(8_000);
      expect(r.text).toMatch(/^HTTP\/1.1 408/);
      expect(body(r.text).error.code).toBe("REQUEST_TIMEOUT");
    }
  });

  it("caps open connections per client address with 429 TOO_MANY_CONNECTIONS, and per node with 503 SERVER_BUSY", async () => {
    const h = await start({ guards: { maxConnectionsPerClient: 3, maxConnections: 100 } });
    const held = await Promise.all([1, 2, 3].map(() => open(h.url)));
    const extra = await open(h.url);
    extra.write("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
    const r = await readAll(extra, 5_000);
    expect(r.text).toMatch(/^HTTP\/1.1 429/);
    expect(r.text.toLowerCase()).toContain("retry-after: 1");
    expect(body(r.text).error.code).toBe("TOO_MANY_CONNECTIONS");
    // Closing one frees a slot.
    held[0]!.destroy();
    await new Promise((res) => setTimeout(res, 100));
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    for (const s of held) s.destroy();

    const g = await start({ guards: { maxConnections: 2, maxConnectionsPerClient: 100 } });
    const two = await Promise.all([1, 2].map(() => open(g.url)));
    const third = await open(g.url);
    third.write("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
    const busy = await readAll(third, 5_000);
    expect(busy.text).toMatch(/^HTTP\/1.1 503/);
    expect(body(busy.text).error.code).toBe("SERVER_BUSY");
    for (const s of two) s.destroy();
  });

  it("rate-limits writes per client with 429 RATE_LIMITED and Retry-After; reads are not limited", async () => {
    const h = await start({ guards: { writesPerSecond: 5, writeBurst: 5 } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let code = "";
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${h.url}/txs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tx: Buffer.from(h.tx().bytes).toString("hex") }),
      });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get("retry-after");
        code = ((await r.json()) as { error: { code: string } }).error.code;
      } else await r.arrayBuffer();
    }
    expect(statuses.slice(0, 5).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(5)).toContain(429);
    expect(code).toBe("RATE_LIMITED");
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 20; i++) expect((await fetch(`${h.url}/status`)).status).toBe(200);
  });

  it("refills a client's write bucket at the configured rate", () => {
    let now = 0;
    const w = new WriteLimiter({ ...defaultApiGuards, writesPerSecond: 10, writeBurst: 2 }, () => now);
    expect([w.take("a"), w.take("a")]).toEqual([0, 0]);
    expect(w.take("a")).toBe(1);
    expect(w.take("b")).toBe(0);
    now += 100; // one token back
    expect(w.take("a")).toBe(0);
    expect(w.take("a")).toBe(1);
  });
});
