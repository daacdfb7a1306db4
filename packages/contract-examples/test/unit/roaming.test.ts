import type { Value } from "@cairn/messaging";
import type { PreparedContract } from "@cairn/vm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { account, buildExample, Harness } from "./harness.ts";

const MAX_U64 = (1n << 64n) - 1n;
const OWNER = account(9);
// Key order: ALPHA < BETA < GAMMA.
const ALPHA = account(1);
const BETA = account(2);
const GAMMA = account(3);
const STRANGER = account(7);

let contract: PreparedContract;
beforeAll(async () => {
  const built = await buildExample("roaming");
  expect(built.methods).toEqual([
    "init",
    "addOperator",
    "setTariff",
    "recordUsage",
    "closePeriod",
    "settle",
    "statement",
    "positions",
    "period",
    "tariff",
    "operator",
    "operators",
    "info",
  ]);
  contract = built.contract;
});

let h: Harness;
beforeEach(() => {
  h = new Harness(contract, { height: 10 });
});

function addOperators(): void {
  h.send(OWNER, "init");
  h.send(OWNER, "addOperator", [ALPHA, "Alpha Mobile"]);
  h.send(OWNER, "addOperator", [BETA, "Beta Telecom"]);
  h.send(OWNER, "addOperator", [GAMMA, "Gamma Wireless"]);
  h.takeEvents();
}

/**
 * Operators and tariffs: Alpha pays Beta 10/min and 2/MB, Beta pays Alpha 8/min and 3/MB, Alpha
 * pays Gamma 5/min and 1/MB.
 */
function setUp(): void {
  addOperators();
  h.send(ALPHA, "setTariff", [BETA, ALPHA, 10, 2]);
  h.send(BETA, "setTariff", [ALPHA, BETA, 8, 3]);
  h.send(ALPHA, "setTariff", [GAMMA, ALPHA, 5, 1]);
  h.takeEvents();
}

/**
 * Period 2025-01: Alpha's subscribers use 100 min + 500 MB on Beta (2,000), Beta's use 50 min +
 * 200 MB on Alpha (1,000), Alpha's use 10 min on Gamma (50). Net: Alpha pays Beta 1,000 and Gamma 50.
 */
function recordJanuary(): void {
  h.send(BETA, "recordUsage", [ALPHA, "2025-01", 60, 300]);
  h.send(BETA, "recordUsage", [ALPHA, "2025-01", 40, 200]);
  h.send(ALPHA, "recordUsage", [BETA, "2025-01", 50, 200]);
  h.send(GAMMA, "recordUsage", [ALPHA, "2025-01", 10, 0]);
  h.takeEvents();
}

function statement(period: string, a: Uint8Array, b: Uint8Array) {
  const [id, state, aUsage, bUsage, net, payer, payee, settled] = h.query("statement", [period, a, b]) as Value[];
  return { id, state, aUsage, bUsage, net, payer, payee, settled };
}

describe("roaming contract: operators and tariffs", () => {
  it("init makes the caller the owner, who alone registers operators, each once", () => {
    h.send(OWNER, "init");
    expect(h.takeEvents()).toEqual([{ name: "init", data: [OWNER] }]);
    h.reject(ALPHA, "init", [], "ALREADY_INITIALIZED");
    h.send(OWNER, "addOperator", [ALPHA, "Alpha Mobile"]);
    expect(h.takeEvents()).toEqual([{ name: "operatorAdded", data: [ALPHA, "Alpha Mobile"] }]);
    expect(h.reject(ALPHA, "addOperator", [BETA, "Beta Telecom"], "NOT_OWNER")).toContain("only the owner");
    h.reject(OWNER, "addOperator", [ALPHA, "Again"], "OPERATOR_EXISTS");
    h.reject(OWNER, "addOperator", [BETA, ""], "BAD_ARGS");
    h.send(OWNER, "addOperator", [BETA, "Beta Telecom"]);
    expect(h.query("operator", [BETA])).toEqual(["Beta Telecom", 10]);
    expect(h.query("operator", [STRANGER])).toBeNull();
    expect(h.query("operators")).toEqual([
      [ALPHA, "Alpha Mobile", 10],
      [BETA, "Beta Telecom", 10],
    ]);
    expect(h.query("info")).toEqual([OWNER, 2]);
  });

  it("fails NOT_INITIALIZED before init", () => {
    h.reject(OWNER, "addOperator", [ALPHA, "Alpha Mobile"], "NOT_INITIALIZED");
    h.reject(ALPHA, "recordUsage", [BETA, "2025-01", 1, 1], "NOT_INITIALIZED");
    h.queryFails("info", [], "NOT_INITIALIZED");
  });

  it("lets the home operator set the tariff it pays a visited operator", () => {
    addOperators();
    h.send(ALPHA, "setTariff", [BETA, ALPHA, 10, 2]);
    expect(h.takeEvents()).toEqual([{ name: "tariffSet", data: [BETA, ALPHA, 10, 2] }]);
    expect(h.query("tariff", [BETA, ALPHA])).toEqual([10, 2, 10]);
    // Each direction is its own agreement.
    expect(h.query("tariff", [ALPHA, BETA])).toBeNull();

    expect(h.reject(BETA, "setTariff", [BETA, ALPHA, 99, 99], "NOT_HOME_OPERATOR")).toContain("home operator");
    h.reject(STRANGER, "setTariff", [BETA, STRANGER, 1, 1], "NOT_OPERATOR");
    h.reject(OWNER, "setTariff", [BETA, ALPHA, 1, 1], "NOT_OPERATOR");
    expect(h.reject(ALPHA, "setTariff", [STRANGER, ALPHA, 1, 1], "UNKNOWN_OPERATOR")).toContain("visited operator");
    h.reject(ALPHA, "setTariff", [ALPHA, ALPHA, 1, 1], "BAD_ARGS");
    h.reject(ALPHA, "setTariff", [BETA, ALPHA, -1, 1], "BAD_ARGS");
  });
});

describe("roaming contract: usage", () => {
  it("records usage charged at the tariff, and accumulates it per period and direction", () => {
    setUp();
    h.send(BETA, "recordUsage", [ALPHA, "2025-01", 60, 300]);
    expect(h.takeEvents()).toEqual([{ name: "usageRecorded", data: ["2025-01", BETA, ALPHA, 60, 300, 1200] }]);
    h.send(BETA, "recordUsage", [ALPHA, "2025-01", 40, 200]);
    h.send(BETA, "recordUsage", [ALPHA, "2025-02", 1, 0]);
    expect(statement("2025-01", ALPHA, BETA)).toEqual({
      id: "2025-01",
      state: "open",
      aUsage: [100, 500, 2000],
      bUsage: [0, 0, 0],
      net: 2000,
      payer: ALPHA,
      payee: BETA,
      settled: false,
    });
    expect(h.query("period", ["2025-01"])).toEqual(["open", 2, 1, 0, 0]);
    expect(h.query("period", ["2025-02"])).toEqual(["open", 1, 1, 0, 0]);
    h.queryFails("period", ["2025-03"], "UNKNOWN_PERIOD");
  });

  it("charges usage at the tariff in force when it is recorded", () => {
    setUp();
    h.send(BETA, "recordUsage", [ALPHA, "2025-01", 10, 0]); // 10 × 10
    h.send(ALPHA, "setTariff", [BETA, ALPHA, 7, 2]);
    h.send(BETA, "recordUsage", [ALPHA, "2025-01", 10, 0]); // 10 × 7
    expect(statement("2025-01", ALPHA, BETA).aUsage).toEqual([20, 0, 170]);
  });

  it("refuses usage from outsiders, without a tariff, to oneself, empty, or in a bad period", () => {
    setUp();
    expect(h.reject(STRANGER, "recordUsage", [ALPHA, "2025-01", 1, 1], "NOT_OPERATOR")).toContain(
      "registered operator",
    );
    expect(h.reject(BETA, "recordUsage", [STRANGER, "2025-01", 1, 1], "UNKNOWN_OPERATOR")).toContain("home operator");
    // Gamma's subscribers have no agreement with Beta.
    expect(h.reject(BETA, "recordUsage", [GAMMA, "2025-01", 1, 1], "NO_TARIFF")).toContain("no tariff");
    // The tariff of one direction does not price the other.
    h.reject(GAMMA, "recordUsage", [BETA, "2025-01", 1, 1], "NO_TARIFF");
    h.reject(BETA, "recordUsage", [BETA, "2025-01", 1, 1], "BAD_ARGS");
    h.reject(BETA, "recordUsage", [ALPHA, "2025-01", 0, 0], "BAD_AMOUNT");
    h.reject(BETA, "recordUsage", [ALPHA, "2025/01", 1, 1], "BAD_ARGS");
    h.reject(BETA, "recordUsage", [ALPHA, "", 1, 1], "BAD_ARGS");
    h.reject(BETA, "recordUsage", [ALPHA, "p".repeat(33), 1, 1], "BAD_ARGS");
    h.reject(BETA, "recordUsage", [ALPHA, "2025-01", 1], "BAD_ARGS");
    h.queryFails("period", ["2025-01"], "UNKNOWN_PERIOD");
  });

  it("checks every product and sum for overflow (u64, no floats)", () => {
    addOperators();
    h.send(ALPHA, "setTariff", [BETA, ALPHA, MAX_U64, 1]);
    expect(h.reject(BETA, "recordUsage", [ALPHA, "big", 2, 0], "OVERFLOW")).toContain("minutes × tariff");
    // MAX × 1 + 1 × 1 overflows the sum of the two charges.
    expect(h.reject(BETA, "recordUsage", [ALPHA, "big", 1, 1], "OVERFLOW")).toContain("amount");
    h.send(BETA, "recordUsage", [ALPHA, "big", 1, 0]);
    expect(statement("big", ALPHA, BETA).aUsage).toEqual([1, 0, MAX_U64]);
    // The running total of the period would pass 2^64-1.
    expect(h.reject(BETA, "recordUsage", [ALPHA, "big", 0, 1], "OVERFLOW")).toContain("total amount");
    // Totals of minutes are checked too (at a zero tariff).
    h.send(ALPHA, "setTariff", [BETA, ALPHA, 0, 0]);
    h.send(BETA, "recordUsage", [ALPHA, "free", MAX_U64, 0]);
    expect(h.reject(BETA, "recordUsage", [ALPHA, "free", 1, 0], "OVERFLOW")).toContain("total minutes");
  });
});

describe("roaming contract: closing and settlement", () => {
  it("closes a period into one net position per pair of operators", () => {
    setUp();
    recordJanuary();
    expect(h.reject(ALPHA, "closePeriod", ["2025-01"], "NOT_OWNER")).toContain("only the owner");
    h.reject(OWNER, "closePeriod", ["2025-02"], "UNKNOWN_PERIOD");
    h.queryFails("positions", ["2025-01"], "PERIOD_OPEN");
    h.advance(5);
    h.send(OWNER, "closePeriod", ["2025-01"]);
    expect(h.takeEvents()).toEqual([
      { name: "netPosition", data: ["2025-01", ALPHA, BETA, 2000, 1000, 1000, ALPHA] },
      { name: "netPosition", data: ["2025-01", ALPHA, GAMMA, 50, 0, 50, ALPHA] },
      { name: "periodClosed", data: ["2025-01", 2] },
    ]);
    expect(h.query("period", ["2025-01"])).toEqual(["closed", 4, 3, 2, 15]);
    expect(h.query("positions", ["2025-01"])).toEqual([
      [ALPHA, BETA, 2000, 1000, 1000, ALPHA, false],
      [ALPHA, GAMMA, 50, 0, 50, ALPHA, false],
    ]);
    expect(statement("2025-01", ALPHA, BETA)).toEqual({
      id: "2025-01",
      state: "closed",
      aUsage: [100, 500, 2000],
      bUsage: [50, 200, 1000],
      net: 1000,
      payer: ALPHA,
      payee: BETA,
      settled: false,
    });
    // The same statement from the other side.
    expect(statement("2025-01", BETA, ALPHA)).toMatchObject({
      aUsage: [50, 200, 1000],
      bUsage: [100, 500, 2000],
      net: 1000,
      payer: ALPHA,
      payee: BETA,
    });
    // No usage between Beta and Gamma.
    expect(statement("2025-01", BETA, GAMMA)).toMatchObject({ net: 0, payer: null, payee: null });
    h.reject(OWNER, "closePeriod", ["2025-01"], "PERIOD_CLOSED");
    expect(h.reject(BETA, "recordUsage", [ALPHA, "2025-01", 1, 1], "PERIOD_CLOSED")).toContain("closed");
    h.queryFails("statement", ["2025-01", ALPHA, ALPHA], "BAD_ARGS");
  });

  it("lets the payer settle a closed position, once", () => {
    setUp();
    recordJanuary();
    expect(h.reject(ALPHA, "settle", ["2025-01", BETA], "PERIOD_OPEN")).toContain("not closed");
    h.send(OWNER, "closePeriod", ["2025-01"]);
    h.takeEvents();
    expect(h.reject(BETA, "settle", ["2025-01", ALPHA], "NOT_PAYER")).toContain("counterparty is the payer");
    expect(h.reject(BETA, "settle", ["2025-01", GAMMA], "NOTHING_TO_SETTLE")).toContain("no usage");
    h.reject(STRANGER, "settle", ["2025-01", ALPHA], "NOT_OPERATOR");
    h.reject(ALPHA, "settle", ["2025-02", BETA], "UNKNOWN_PERIOD");
    h.advance(3);
    h.send(ALPHA, "settle", ["2025-01", BETA]);
    expect(h.takeEvents()).toEqual([{ name: "settled", data: ["2025-01", ALPHA, BETA, 1000] }]);
    expect(statement("2025-01", BETA, ALPHA)).toMatchObject({ net: 1000, payer: ALPHA, settled: true });
    expect(h.reject(ALPHA, "settle", ["2025-01", BETA], "ALREADY_SETTLED")).toContain("at height 13");
    expect(h.query("positions", ["2025-01"])).toEqual([
      [ALPHA, BETA, 2000, 1000, 1000, ALPHA, true],
      [ALPHA, GAMMA, 50, 0, 50, ALPHA, false],
    ]);
  });

  it("has nothing to settle when a pair owes each other the same", () => {
    addOperators();
    h.send(ALPHA, "setTariff", [BETA, ALPHA, 10, 0]);
    h.send(BETA, "setTariff", [ALPHA, BETA, 5, 0]);
    h.send(BETA, "recordUsage", [ALPHA, "q1", 10, 0]); // Alpha owes 100
    h.send(ALPHA, "recordUsage", [BETA, "q1", 20, 0]); // Beta owes 100
    h.send(OWNER, "closePeriod", ["q1"]);
    expect(h.takeEvents()).toContainEqual({ name: "netPosition", data: ["q1", ALPHA, BETA, 100, 100, 0, null] });
    expect(statement("q1", ALPHA, BETA)).toMatchObject({ net: 0, payer: null, payee: null, settled: false });
    expect(h.reject(ALPHA, "settle", ["q1", BETA], "NOTHING_TO_SETTLE")).toContain("balanced");
    h.reject(BETA, "settle", ["q1", ALPHA], "NOTHING_TO_SETTLE");
  });

  it("keeps periods apart", () => {
    setUp();
    recordJanuary();
    h.send(BETA, "recordUsage", [ALPHA, "2025-01x", 1, 0]);
    h.send(OWNER, "closePeriod", ["2025-01"]);
    expect(h.query("period", ["2025-01x"])).toEqual(["open", 1, 1, 0, 0]);
    expect(statement("2025-01x", ALPHA, BETA)).toMatchObject({ aUsage: [1, 0, 10], net: 10, state: "open" });
  });

  it("cannot be changed by a read-only query", () => {
    setUp();
    h.failed(h.call(BETA, "recordUsage", [ALPHA, "2025-01", 1, 1], true), "READ_ONLY");
    h.queryFails("period", ["2025-01"], "UNKNOWN_PERIOD");
  });
});
