// Walkthrough of supply-chain asset provenance (contracts/provenance) on a running cluster: the
// admin deploys the registry and registers a farm, a mill and a shop; a lot of wheat goes from the
// farm to the mill to the shop, which retires it; outsiders and former holders are refused; the
// item and its history are read back with queries.
//   node packages/contract-examples/scripts/provenance.ts [--url http://127.0.0.1:26600] [--keys .cairn/cluster/keys]
import type { Value } from "@cairn/client";
import { runWalkthrough } from "./walkthrough.ts";

runWalkthrough("provenance", "Provenance walkthrough: supply-chain asset provenance (FG DLT use case)", async (w) => {
  const farm = w.actor("Farm");
  const mill = w.actor("Mill");
  const shop = w.actor("Shop");
  const stranger = w.actor("Stranger");
  const lot = "lot-2025-0042";

  w.section("Build and deploy");
  await w.deploy("provenance");

  w.section("The admin initialises the registry and registers the parties");
  await w.send(w.admin, "init");
  for (const [party, name] of [
    [farm, "Green Farm"],
    [mill, "Stone Mill"],
    [shop, "Corner Shop"],
  ] as const) {
    const r = await w.send(w.admin, "registerParty", [party.publicKey, name]);
    w.expectEvents(r, [["partyRegistered", [party.publicKey, name]]]);
  }
  await w.send(farm, "registerParty", [stranger.publicKey, "Shady Trader"], "NOT_OWNER");
  const parties = (await w.query("parties")) as Value[];
  w.expectEqual(parties.length, 3, "three registered parties");

  w.section("The farm creates a lot of wheat");
  await w.send(stranger, "create", [lot, "counterfeit wheat"], "NOT_PARTY");
  let r = await w.send(farm, "create", [lot, "organic wheat, 20 t, harvest 2025"]);
  w.expectEvents(r, [["created", [lot, farm.publicKey, "organic wheat, 20 t, harvest 2025"]]]);
  await w.send(mill, "create", [lot, "the same id again"], "ITEM_EXISTS");

  w.section("The lot travels: farm → mill → shop");
  r = await w.send(farm, "transfer", [lot, mill.publicKey, "truck NL-12-AB, 20 t"]);
  w.expectEvents(r, [["transferred", [lot, farm.publicKey, mill.publicKey, "truck NL-12-AB, 20 t", 1]]]);
  await w.send(farm, "transfer", [lot, shop.publicKey, "sold twice?"], "NOT_HOLDER");
  await w.send(mill, "transfer", [lot, stranger.publicKey, "off the books"], "NOT_PARTY");
  r = await w.send(mill, "transfer", [lot, shop.publicKey, "milled: 18 t of flour"]);
  w.expectEvents(r, [["transferred", [lot, mill.publicKey, shop.publicKey, "milled: 18 t of flour", 2]]]);

  w.section("The shop sells out and retires the lot");
  await w.send(mill, "retire", [lot], "NOT_HOLDER");
  r = await w.send(shop, "retire", [lot, "sold out"]);
  w.expectEvents(r, [["retired", [lot, shop.publicKey, 3]]]);
  await w.send(shop, "transfer", [lot, farm.publicKey, "back to the farm"], "RETIRED");
  await w.send(farm, "transfer", ["lot-unknown", mill.publicKey, ""], "UNKNOWN_ITEM");

  w.section("Where has the lot been?");
  const item = (await w.query("item", [lot])) as Value[];
  w.expectEqual(
    item.slice(2, 7),
    [farm.publicKey, shop.publicKey, "Corner Shop", "retired", 4],
    "created by the farm, held by the shop, retired, 4 steps",
  );
  const history = (await w.query("history", [lot])) as Value[][];
  w.expectEqual(
    history.map((s) => [s[1]!, s[2]!, s[3]!]),
    [
      ["create", null, farm.publicKey],
      ["transfer", farm.publicKey, mill.publicKey],
      ["transfer", mill.publicKey, shop.publicKey],
      ["retire", shop.publicKey, null],
    ],
    "history: create, farm → mill, mill → shop, retire",
  );
  const heights = history.map((s) => Number(s[5]));
  const times = history.map((s) => Number(s[6]));
  w.expectEqual(
    heights.every((h, i) => i === 0 || h > heights[i - 1]!) && times.every((t, i) => i === 0 || t >= times[i - 1]!),
    true,
    `each step in a later block (heights ${heights.join(", ")}), stamped with its block's time`,
  );
  await w.query("item", ["lot-unknown"], "UNKNOWN_ITEM");
});
