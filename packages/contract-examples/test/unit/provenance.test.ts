import type { Value } from "@cairn/messaging";
import type { PreparedContract } from "@cairn/vm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { account, buildExample, Harness } from "./harness.ts";

const OWNER = account(9);
const FARM = account(1);
const MILL = account(2);
const SHOP = account(3);
const STRANGER = account(7);

let contract: PreparedContract;
beforeAll(async () => {
  const built = await buildExample("provenance");
  expect(built.methods).toEqual([
    "init",
    "registerParty",
    "create",
    "transfer",
    "retire",
    "item",
    "history",
    "party",
    "parties",
    "info",
  ]);
  contract = built.contract;
});

let h: Harness;
beforeEach(() => {
  h = new Harness(contract, { height: 10, time: 1_700_000_000_000 });
});

/** The owner initialises the registry and registers the farm, the mill and the shop. */
function setUp(): void {
  h.send(OWNER, "init");
  h.send(OWNER, "registerParty", [FARM, "Green Farm"]);
  h.send(OWNER, "registerParty", [MILL, "Stone Mill"]);
  h.send(OWNER, "registerParty", [SHOP, "Corner Shop"]);
  h.takeEvents();
}

describe("provenance contract: owner and parties", () => {
  it("init makes the caller the owner, once", () => {
    h.send(OWNER, "init");
    expect(h.takeEvents()).toEqual([{ name: "init", data: [OWNER] }]);
    expect(h.query("info")).toEqual([OWNER, 0, 0]);
    expect(h.reject(FARM, "init", [], "ALREADY_INITIALIZED")).toContain("already");
  });

  it("fails NOT_INITIALIZED before init", () => {
    h.reject(OWNER, "registerParty", [FARM, "Green Farm"], "NOT_INITIALIZED");
    h.reject(FARM, "create", ["lot-1", "wheat"], "NOT_INITIALIZED");
    h.queryFails("info", [], "NOT_INITIALIZED");
  });

  it("lets only the owner register parties, each once", () => {
    h.send(OWNER, "init");
    h.takeEvents();
    h.send(OWNER, "registerParty", [FARM, "Green Farm"]);
    expect(h.takeEvents()).toEqual([{ name: "partyRegistered", data: [FARM, "Green Farm"] }]);
    expect(h.query("party", [FARM])).toEqual(["Green Farm", 10]);
    expect(h.query("party", [STRANGER])).toBeNull();

    expect(h.reject(FARM, "registerParty", [STRANGER, "Fake"], "NOT_OWNER")).toContain("only the owner");
    expect(h.reject(OWNER, "registerParty", [FARM, "Other"], "PARTY_EXISTS")).toContain("Green Farm");
    expect(h.reject(OWNER, "registerParty", [MILL, ""], "BAD_ARGS")).toContain("name must be 1..64 bytes");
    h.reject(OWNER, "registerParty", [MILL, "x".repeat(65)], "BAD_ARGS");

    h.advance(2);
    h.send(OWNER, "registerParty", [MILL, "Stone Mill"]);
    // Key order: 0x01.. before 0x02..
    expect(h.query("parties")).toEqual([
      [FARM, "Green Farm", 10],
      [MILL, "Stone Mill", 12],
    ]);
    expect(h.query("info")).toEqual([OWNER, 2, 0]);
  });
});

describe("provenance contract: items", () => {
  it("lets a registered party create an item, which it then holds", () => {
    setUp();
    h.send(FARM, "create", ["lot-1", "organic wheat, 20 t"]);
    expect(h.takeEvents()).toEqual([{ name: "created", data: ["lot-1", FARM, "organic wheat, 20 t"] }]);
    expect(h.query("item", ["lot-1"])).toEqual([
      "lot-1",
      "organic wheat, 20 t",
      FARM,
      FARM,
      "Green Farm",
      "active",
      1,
      10,
      10,
    ]);
    expect(h.query("history", ["lot-1"])).toEqual([
      [0, "create", null, FARM, "organic wheat, 20 t", 10, 1_700_000_000_000],
    ]);
    expect(h.query("info")).toEqual([OWNER, 3, 1]);
  });

  it("refuses items from outsiders, duplicate ids and bad ids", () => {
    setUp();
    expect(h.reject(STRANGER, "create", ["lot-1", "wheat"], "NOT_PARTY")).toContain("registered party");
    // The owner is not a party unless registered.
    h.reject(OWNER, "create", ["lot-1", "wheat"], "NOT_PARTY");
    h.send(FARM, "create", ["lot-1", "wheat"]);
    expect(h.reject(MILL, "create", ["lot-1", "flour"], "ITEM_EXISTS")).toContain("lot-1");
    expect(h.reject(FARM, "create", ["lot/2", "wheat"], "BAD_ARGS")).toContain("letters, digits");
    h.reject(FARM, "create", ["", "wheat"], "BAD_ARGS");
    h.reject(FARM, "create", ["x".repeat(65), "wheat"], "BAD_ARGS");
    h.reject(FARM, "create", ["lot 2", "wheat"], "BAD_ARGS");
    expect(h.reject(FARM, "create", ["lot-2", "d".repeat(257)], "BAD_ARGS")).toContain("description");
    h.queryFails("item", ["lot-2"], "UNKNOWN_ITEM");
    h.queryFails("history", ["lot-2"], "UNKNOWN_ITEM");
  });

  it("hands an item from holder to holder, recording each step with height and time", () => {
    setUp();
    h.send(FARM, "create", ["lot-1", "wheat"]);
    h.advance(3);
    h.send(FARM, "transfer", ["lot-1", MILL, "truck 12, 20 t"]);
    h.advance(5);
    h.send(MILL, "transfer", ["lot-1", SHOP, "milled, 18 t of flour"]);
    expect(h.takeEvents()).toEqual([
      { name: "created", data: ["lot-1", FARM, "wheat"] },
      { name: "transferred", data: ["lot-1", FARM, MILL, "truck 12, 20 t", 1] },
      { name: "transferred", data: ["lot-1", MILL, SHOP, "milled, 18 t of flour", 2] },
    ]);
    expect(h.query("item", ["lot-1"])).toEqual(["lot-1", "wheat", FARM, SHOP, "Corner Shop", "active", 3, 10, 18]);
    const t0 = 1_700_000_000_000;
    expect(h.query("history", ["lot-1"])).toEqual([
      [0, "create", null, FARM, "wheat", 10, t0],
      [1, "transfer", FARM, MILL, "truck 12, 20 t", 13, t0 + 3000],
      [2, "transfer", MILL, SHOP, "milled, 18 t of flour", 18, t0 + 8000],
    ]);
    expect(h.query("history", ["lot-1", 2])).toEqual([
      [2, "transfer", MILL, SHOP, "milled, 18 t of flour", 18, t0 + 8000],
    ]);
    expect(h.query("history", ["lot-1", 3])).toEqual([]);
  });

  it("lets only the current holder transfer, and only to another registered party", () => {
    setUp();
    h.send(FARM, "create", ["lot-1", "wheat"]);
    h.send(FARM, "transfer", ["lot-1", MILL, ""]);
    // The farm no longer holds it; neither the owner nor a stranger ever did.
    expect(h.reject(FARM, "transfer", ["lot-1", SHOP, ""], "NOT_HOLDER")).toContain("current holder");
    h.reject(OWNER, "transfer", ["lot-1", SHOP, ""], "NOT_HOLDER");
    h.reject(STRANGER, "transfer", ["lot-1", SHOP, ""], "NOT_HOLDER");
    expect(h.reject(MILL, "transfer", ["lot-1", STRANGER, ""], "NOT_PARTY")).toContain("recipient");
    h.reject(MILL, "transfer", ["lot-1", MILL, ""], "SAME_HOLDER");
    h.reject(MILL, "transfer", ["lot-9", SHOP, ""], "UNKNOWN_ITEM");
    h.reject(MILL, "transfer", ["lot-1", SHOP, "n".repeat(257)], "BAD_ARGS");
    const [, , , holder, , , steps] = h.query("item", ["lot-1"]) as Value[];
    expect([holder, steps]).toEqual([MILL, 2]);
  });

  it("retires an item: only the holder, once, and a retired item cannot move", () => {
    setUp();
    h.send(FARM, "create", ["lot-1", "wheat"]);
    h.send(FARM, "transfer", ["lot-1", SHOP, "sold"]);
    h.takeEvents();
    h.reject(FARM, "retire", ["lot-1"], "NOT_HOLDER");
    h.advance(1);
    h.send(SHOP, "retire", ["lot-1", "sold out"]);
    expect(h.takeEvents()).toEqual([{ name: "retired", data: ["lot-1", SHOP, 2] }]);
    expect(h.query("item", ["lot-1"])).toEqual(["lot-1", "wheat", FARM, SHOP, "Corner Shop", "retired", 3, 10, 11]);
    expect((h.query("history", ["lot-1"]) as Value[])[2]).toEqual([
      2,
      "retire",
      SHOP,
      null,
      "sold out",
      11,
      1_700_000_001_000,
    ]);
    expect(h.reject(SHOP, "transfer", ["lot-1", MILL, ""], "RETIRED")).toContain("retired");
    expect(h.reject(SHOP, "retire", ["lot-1"], "RETIRED")).toContain("already retired");
    h.reject(SHOP, "retire", ["lot-9"], "UNKNOWN_ITEM");
  });

  it("keeps every item's history apart, in step order past 255 steps, in pages of 64", () => {
    setUp();
    h.send(FARM, "create", ["box", "a box"]);
    h.send(FARM, "create", ["box:2", "another box"]);
    h.send(FARM, "create", ["bo", "a prefix of box"]);
    // 299 transfers between the farm and the mill: steps 0..299.
    for (let i = 1; i < 300; i++)
      h.send(i % 2 === 1 ? FARM : MILL, "transfer", ["box", i % 2 === 1 ? MILL : FARM, `#${i}`]);
    const [, , , holder, , , steps] = h.query("item", ["box"]) as Value[];
    expect([holder, steps]).toEqual([MILL, 300]);
    const all: unknown[][] = [];
    for (let from = 0; ; from += 64) {
      const page = h.query("history", ["box", from]) as unknown[][];
      expect(page.length).toBeLessThanOrEqual(64);
      all.push(...page);
      if (page.length < 64) break;
    }
    expect(all.map((s) => s[0])).toEqual([...Array(300).keys()]);
    expect(all[256]).toEqual([256, "transfer", MILL, FARM, "#256", 10, 1_700_000_000_000]);
    expect(h.query("history", ["box:2"])).toEqual([[0, "create", null, FARM, "another box", 10, 1_700_000_000_000]]);
    expect(h.query("history", ["bo"])).toHaveLength(1);
  });

  it("rejects malformed arguments with BAD_ARGS", () => {
    setUp();
    expect(h.reject(FARM, "create", ["lot-1"], "BAD_ARGS")).toContain("missing argument 1");
    h.reject(FARM, "create", ["lot-1", "wheat", "extra"], "BAD_ARGS");
    h.reject(FARM, "create", [5, "wheat"], "BAD_ARGS");
    h.send(FARM, "create", ["lot-1", "wheat"]);
    expect(h.reject(FARM, "transfer", ["lot-1", MILL.subarray(0, 31), ""], "BAD_ARGS")).toContain("32-byte key");
    h.reject(OWNER, "registerParty", ["not a key", "X"], "BAD_ARGS");
    h.queryFails("history", ["lot-1", "0"], "BAD_ARGS");
  });

  it("cannot be changed by a read-only query", () => {
    setUp();
    h.failed(h.call(FARM, "create", ["lot-1", "wheat"], true), "READ_ONLY");
    h.queryFails("item", ["lot-1"], "UNKNOWN_ITEM");
  });
});
