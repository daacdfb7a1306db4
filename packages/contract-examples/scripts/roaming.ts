// Walkthrough of roaming settlement (contracts/roaming) on a running cluster: the admin deploys
// the clearing contract and registers three operators; they agree tariffs, record their visitors'
// usage for a billing period, the admin closes the period into net positions, and the payer
// settles. Amounts are in cents.
//   node packages/contract-examples/scripts/roaming.ts [--url http://127.0.0.1:26600] [--keys .cairn/cluster/keys]
import type { Value } from "@cairn/client";
import { type Actor, runWalkthrough } from "./walkthrough.ts";

runWalkthrough("roaming", "Roaming walkthrough: settlement between telecom operators (FG DLT use case)", async (w) => {
  const alpha = w.actor("Alpha");
  const beta = w.actor("Beta");
  const gamma = w.actor("Gamma");
  const stranger = w.actor("Stranger");
  const period = "2025-06";

  /**
   * The netPosition event of x and y: the contract names a pair in byte order of the keys (the
   * keys are fresh, so the order differs from run to run), and the payer is whoever owes more.
   */
  const position = (x: Actor, xOwes: number, y: Actor, yOwes: number): Value[] => {
    const payer = xOwes > yOwes ? x.publicKey : y.publicKey;
    const net = Math.abs(xOwes - yOwes);
    return Buffer.compare(x.publicKey, y.publicKey) < 0
      ? [period, x.publicKey, y.publicKey, xOwes, yOwes, net, payer]
      : [period, y.publicKey, x.publicKey, yOwes, xOwes, net, payer];
  };
  /** Whether an entry of `positions` is the pair x, y. */
  const pairOf = (p: Value[], x: Actor, y: Actor): boolean => {
    const keys = [Buffer.from(p[0] as Uint8Array).toString("hex"), Buffer.from(p[1] as Uint8Array).toString("hex")];
    return (
      keys.includes(Buffer.from(x.publicKey).toString("hex")) && keys.includes(Buffer.from(y.publicKey).toString("hex"))
    );
  };

  w.section("Build and deploy");
  await w.deploy("roaming");

  w.section("The admin (the clearing house) registers the operators");
  await w.send(w.admin, "init");
  for (const [op, name] of [
    [alpha, "Alpha Mobile"],
    [beta, "Beta Telecom"],
    [gamma, "Gamma Wireless"],
  ] as const) {
    await w.send(w.admin, "addOperator", [op.publicKey, name]);
  }

  w.section("Tariffs: each home operator sets what it pays the networks its subscribers visit");
  let r = await w.send(alpha, "setTariff", [beta.publicKey, alpha.publicKey, 10, 2]);
  w.expectEvents(r, [["tariffSet", [beta.publicKey, alpha.publicKey, 10, 2]]]);
  await w.send(beta, "setTariff", [alpha.publicKey, beta.publicKey, 8, 3]);
  await w.send(alpha, "setTariff", [gamma.publicKey, alpha.publicKey, 5, 1]);
  await w.send(beta, "setTariff", [beta.publicKey, alpha.publicKey, 99, 99], "NOT_HOME_OPERATOR");
  await w.send(stranger, "setTariff", [alpha.publicKey, stranger.publicKey, 1, 1], "NOT_OPERATOR");
  await w.query("tariff", [beta.publicKey, alpha.publicKey]);

  w.section(`Usage in period ${period}: each visited network records its visitors'`);
  r = await w.send(beta, "recordUsage", [alpha.publicKey, period, 60, 300]);
  w.expectEvents(r, [["usageRecorded", [period, beta.publicKey, alpha.publicKey, 60, 300, 1200]]]);
  await w.send(beta, "recordUsage", [alpha.publicKey, period, 40, 200]);
  await w.send(alpha, "recordUsage", [beta.publicKey, period, 50, 200]);
  await w.send(gamma, "recordUsage", [alpha.publicKey, period, 10, 0]);
  await w.send(gamma, "recordUsage", [beta.publicKey, period, 10, 0], "NO_TARIFF");
  await w.send(alpha, "recordUsage", [beta.publicKey, period, 0, 0], "BAD_AMOUNT");
  await w.query("period", [period]);
  const open = (await w.query("statement", [period, alpha.publicKey, beta.publicKey])) as Value[];
  w.expectEqual(
    open.slice(1, 7),
    ["open", [100, 500, 2000], [50, 200, 1000], 1000, alpha.publicKey, beta.publicKey],
    "open statement: Alpha owes Beta 2,000, Beta owes Alpha 1,000, so far Alpha would pay 1,000",
  );

  w.section("The clearing house closes the period: one net position per pair");
  await w.send(alpha, "closePeriod", [period], "NOT_OWNER");
  r = await w.send(w.admin, "closePeriod", [period]);
  w.expectEvents(
    r,
    [
      ["netPosition", position(alpha, 2000, beta, 1000)],
      ["netPosition", position(alpha, 50, gamma, 0)],
      ["periodClosed", [period, 2]],
    ],
    { anyOrder: true },
  );
  await w.send(beta, "recordUsage", [alpha.publicKey, period, 5, 5], "PERIOD_CLOSED");
  await w.query("positions", [period]);

  w.section("Settlement: the payer marks each position paid");
  await w.send(beta, "settle", [period, alpha.publicKey], "NOT_PAYER");
  r = await w.send(alpha, "settle", [period, beta.publicKey]);
  w.expectEvents(r, [["settled", [period, alpha.publicKey, beta.publicKey, 1000]]]);
  await w.send(alpha, "settle", [period, beta.publicKey], "ALREADY_SETTLED");
  await w.send(beta, "settle", [period, gamma.publicKey], "NOTHING_TO_SETTLE");
  const closed = (await w.query("statement", [period, beta.publicKey, alpha.publicKey])) as Value[];
  w.expectEqual(
    [closed[1]!, closed[4]!, closed[5]!, closed[6]!, closed[7]!],
    ["closed", 1000, alpha.publicKey, beta.publicKey, true],
    "Beta's statement: Alpha paid the net 1,000",
  );
  const positions = (await w.query("positions", [period])) as Value[][];
  const settledOf = (x: Actor, y: Actor) => positions.find((p) => pairOf(p, x, y))?.slice(4);
  w.expectEqual(
    [settledOf(alpha, beta) ?? null, settledOf(alpha, gamma) ?? null],
    [
      [1000, alpha.publicKey, true],
      [50, alpha.publicKey, false],
    ],
    "Alpha–Beta settled; Alpha–Gamma (50) still open",
  );
});
