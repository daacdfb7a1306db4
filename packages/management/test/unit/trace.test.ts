import { describe, expect, it } from "vitest";
import { TxTracer } from "../../src/index.ts";

describe("TxTracer", () => {
  it("begins a journey where the mempool decodes a traced transaction, and orders its points by time", () => {
    const t = new TxTracer();
    t.mark("committed", ["aa"], 1, 5); // not begun: ignored
    t.mark("voted", ["aa"], 1, 5); // nor this
    expect(t.journey("aa").marks).toEqual([]);
    t.mark("decoded", ["aa"], undefined, 10);
    t.mark("received", ["aa"], undefined, 8); // the API marks it later, with the request's arrival time
    t.mark("admitted", ["aa"], undefined, 12);
    t.mark("committed", ["aa"], 3, 40);
    t.mark("committed", ["aa"], 3, 99); // the first time counts
    expect(t.journey("aa")).toEqual({
      marks: [
        { point: "received", at: 8 },
        { point: "decoded", at: 10 },
        { point: "admitted", at: 12 },
        { point: "committed", at: 40 },
      ],
      height: 3,
    });
    expect(t.between("aa", "admitted", "committed")).toBe(28);
    expect(t.reached("aa", "received")).toBe(true);
    expect(t.reached("aa", "streamed")).toBe(false);
    expect(t.between("aa", "admitted", "streamed")).toBeUndefined();
    expect(t.between("bb", "admitted", "committed")).toBeUndefined();
  });

  it("begins a journey at a block that carries a transaction this node never decoded (it came in a proposal first)", () => {
    const t = new TxTracer();
    t.mark("executed", ["bb"], 7, 20);
    t.mark("voted", ["bb"], 7, 21);
    t.mark("committed", ["bb"], 7, 30);
    expect(t.journey("bb")).toEqual({
      marks: [
        { point: "executed", at: 20 },
        { point: "voted", at: 21 },
        { point: "committed", at: 30 },
      ],
      height: 7,
    });
    // Not through this node's mempool: no admission-to-commit latency.
    expect(t.between("bb", "admitted", "committed")).toBeUndefined();
  });

  it("keeps only the most recent journeys", () => {
    const t = new TxTracer(2);
    t.mark("decoded", ["a", "b", "c"]);
    expect(t.size).toBe(2);
    expect(t.journey("a").marks).toEqual([]);
    expect(t.journey("c").marks.map((m) => m.point)).toEqual(["decoded"]);
  });
});
