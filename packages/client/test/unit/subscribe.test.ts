import { toHex } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import { type BlockEvent, createClient, generateKey, kv, type SseMessage, SseParser } from "../../src/index.ts";
import { start, waitFor } from "./helpers.ts";

describe("SseParser", () => {
  it("parses events split across chunks, with CRLF, comments and multi-line data", () => {
    const got: SseMessage[] = [];
    const p = new SseParser((m) => got.push(m));
    const stream =
      ': hello\r\n\r\nid: 1\r\nevent: block\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata:plain\n\nretry: 5\nevent: x\ndata\n\n';
    for (const ch of stream) p.push(ch);
    expect(got).toEqual([
      { id: "1", event: "block", data: '{"a":\n1}' },
      { id: "1", event: "message", data: "plain" },
      { id: "1", event: "x", data: "" },
    ]);
  });

  it("holds a lone CR until it knows whether LF follows", () => {
    const got: SseMessage[] = [];
    const p = new SseParser((m) => got.push(m));
    p.push("data: a\r");
    p.push("\n\r");
    expect(got).toHaveLength(0);
    p.push("\n");
    expect(got).toEqual([{ id: undefined, event: "message", data: "a" }]);
  });
});

describe("subscribe", () => {
  it("delivers committed blocks until aborted, and the node sees the unsubscribe", async () => {
    const { client, backend } = await start();
    const got: BlockEvent[] = [];
    const ac = new AbortController();
    const done = client.subscribe((b) => void got.push(b), { signal: ac.signal });
    await waitFor(() => backend.subscribers === 1);
    const tx = await client.signer(generateKey()).sign(kv.put("k", "v"));
    await client.submit(tx);
    const view = await backend.produceBlock();
    await backend.produceBlock();
    await waitFor(() => got.length === 2);
    expect(got[0]).toEqual({
      height: 1,
      hash: toHex(view.hash),
      time: view.block.header.time,
      txCount: 1,
      stateRoot: toHex(view.block.header.stateRoot),
      gasUsed: view.receipts[0]!.gasUsed,
      receipts: [{ txHash: toHex(tx.hash), code: "OK", gasUsed: view.receipts[0]!.gasUsed }],
    });
    ac.abort();
    await done;
    await waitFor(() => backend.subscribers === 0);
  });

  it("replays from a height", async () => {
    const { client, backend } = await start();
    for (let i = 0; i < 4; i++) await backend.produceBlock();
    const heights: number[] = [];
    const ac = new AbortController();
    const done = client.subscribe((b) => void heights.push(b.height), { signal: ac.signal, from: 2 });
    await waitFor(() => heights.length === 3);
    await backend.produceBlock();
    await waitFor(() => heights.length === 4);
    ac.abort();
    await done;
    expect(heights).toEqual([2, 3, 4, 5]);
  });

  it("reconnects after the stream drops and resumes without gaps", async () => {
    const first = await start();
    const { backend } = first;
    const heights: number[] = [];
    const errors: unknown[] = [];
    const ac = new AbortController();
    const done = first.client.subscribe((b) => void heights.push(b.height), {
      signal: ac.signal,
      retryMs: 20,
      onError: (e) => errors.push(e),
    });
    await waitFor(() => backend.subscribers === 1);
    await backend.produceBlock();
    await waitFor(() => heights.length === 1);
    // Drop the connection from the server side; blocks committed meanwhile must still arrive.
    first.server.app.server.closeAllConnections();
    await waitFor(() => backend.subscribers === 0);
    await backend.produceBlock();
    await backend.produceBlock();
    await waitFor(() => heights.length === 3);
    expect(heights).toEqual([1, 2, 3]);
    expect(errors.length).toBeGreaterThan(0);
    ac.abort();
    await done;
  });

  it("ends with the callback's error", async () => {
    const { client, backend } = await start();
    const done = client.subscribe(() => {
      throw new RangeError("listener broke");
    });
    await waitFor(() => backend.subscribers === 1);
    await backend.produceBlock();
    await expect(done).rejects.toThrow("listener broke");
    await waitFor(() => backend.subscribers === 0);
  });

  it("rejects with CairnApiError when the endpoint refuses", async () => {
    const { client } = await start();
    await expect(client.subscribe(() => {}, { from: -1 as number })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      status: 400,
    });
  });

  it("does not reconnect when told not to", async () => {
    const fakeFetch = (async () =>
      new Response(': hi\n\nid: 7\nevent: block\ndata: {"height":7}\n\n', {
        headers: { "content-type": "text/event-stream" },
      })) as typeof fetch;
    const got: number[] = [];
    await createClient({ url: "http://x.invalid", fetch: fakeFetch }).subscribe((b) => void got.push(b.height), {
      reconnect: false,
    });
    expect(got).toEqual([7]);
  });
});
