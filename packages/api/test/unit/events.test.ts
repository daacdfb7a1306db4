import { toHex } from "@cairn/crypto";
import { until } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { type Json, start } from "./helpers.ts";

/** Reads an SSE response incrementally. */
function reader(res: Response) {
  const r = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  return {
    /** Reads until `pred` holds for the text received so far. */
    async until(pred: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(buf)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(buf)}`);
        const { value, done } = await r.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
      }
      return buf;
    },
    events(): { id: string | undefined; event: string | undefined; data: Json }[] {
      return buf
        .split("\n\n")
        .filter((chunk) => chunk.includes("data: "))
        .map((chunk) => {
          const field = (name: string) =>
            chunk
              .split("\n")
              .find((l) => l.startsWith(`${name}: `))
              ?.slice(name.length + 2);
          return { id: field("id"), event: field("event"), data: JSON.parse(field("data")!) };
        });
    },
  };
}

describe("GET /events", () => {
  it("streams committed blocks as server-sent events", async () => {
    const h = await start();
    const ac = new AbortController();
    const res = await fetch(`${h.url}/events`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const r = reader(res);
    await until(() => h.backend.subscribers === 1);

    const s = h.tx();
    await h.backend.submit([s.bytes]);
    const view = await h.backend.produceBlock();
    await h.backend.produceBlock();
    await r.until((t) => t.includes("id: 2\n"));
    const events = r.events();
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      id: "1",
      event: "block",
      data: {
        height: 1,
        hash: toHex(view.hash),
        time: view.block.header.time,
        txCount: 1,
        stateRoot: toHex(view.block.header.stateRoot),
        gasUsed: view.receipts[0]!.gasUsed,
        receipts: [{ txHash: toHex(s.hash), code: "OK", gasUsed: view.receipts[0]!.gasUsed }],
      },
    });
    expect(events[1]!.data.txCount).toBe(0);
    ac.abort();
  });

  it("sends keep-alive comments", async () => {
    const h = await start({ keepAliveMs: 20 });
    const ac = new AbortController();
    const r = reader(await fetch(`${h.url}/events`, { signal: ac.signal }));
    const text = await r.until((t) => t.includes(": keep-alive\n\n"));
    expect(text).toContain(": keep-alive\n\n");
    ac.abort();
  });

  it("unsubscribes when the client disconnects", async () => {
    const h = await start();
    const ac = new AbortController();
    await fetch(`${h.url}/events`, { signal: ac.signal });
    await until(() => h.backend.subscribers === 1);
    const second = new AbortController();
    await fetch(`${h.url}/events`, { signal: second.signal });
    await until(() => h.backend.subscribers === 2);
    ac.abort();
    await until(() => h.backend.subscribers === 1);
    second.abort();
    await until(() => h.backend.subscribers === 0);
    // Blocks after the disconnect go nowhere and break nothing.
    await h.backend.produceBlock();
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
  });

  it("replays missed blocks from ?from= and then continues live, without gaps or repeats", async () => {
    const h = await start();
    for (let i = 0; i < 5; i++) await h.backend.produceBlock();
    const ac = new AbortController();
    const r = reader(await fetch(`${h.url}/events?from=3`, { signal: ac.signal }));
    await r.until((t) => t.includes("id: 5\n"));
    await h.backend.produceBlock();
    await r.until((t) => t.includes("id: 6\n"));
    expect(r.events().map((e) => e.data.height)).toEqual([3, 4, 5, 6]);
    ac.abort();
  });

  it("resumes after Last-Event-ID", async () => {
    const h = await start();
    for (let i = 0; i < 3; i++) await h.backend.produceBlock();
    const ac = new AbortController();
    const r = reader(await fetch(`${h.url}/events`, { signal: ac.signal, headers: { "last-event-id": "1" } }));
    await r.until((t) => t.includes("id: 3\n"));
    expect(r.events().map((e) => e.data.height)).toEqual([2, 3]);
    ac.abort();
  });

  it("rejects a bad start height before streaming", async () => {
    const h = await start();
    const res = await fetch(`${h.url}/events?from=abc`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.code).toBe("BAD_REQUEST");
    expect(h.backend.subscribers).toBe(0);
  });

  it("ends open streams when the server closes", async () => {
    const h = await start();
    const res = await fetch(`${h.url}/events`);
    const r = reader(res);
    await until(() => h.backend.subscribers === 1);
    const t0 = Date.now();
    await h.server.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    await r.until(() => false).catch(() => {});
    expect(h.backend.subscribers).toBe(0);
  });
});
