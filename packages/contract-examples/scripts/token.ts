// Walkthrough of the payment/settlement token (contracts/token) on a running cluster: the admin
// deploys it and becomes the minter, mints for a bank, which pays a merchant; overdrafts and
// minting by anyone else are refused.
//   node packages/contract-examples/scripts/token.ts [--url http://127.0.0.1:26600] [--keys .cairn/cluster/keys]
import { runWalkthrough } from "./walkthrough.ts";

runWalkthrough("token", "Token walkthrough: a payment and settlement token (FG DLT use case)", async (w) => {
  const bank = w.actor("Bank");
  const merchant = w.actor("Merchant");

  w.section("Build and deploy");
  await w.deploy("token");

  w.section("The admin initialises the token and becomes its minter");
  let r = await w.send(w.admin, "init", ["Settlement Euro", "sEUR"]);
  w.expectEvents(r, [["init", ["Settlement Euro", "sEUR", w.admin.publicKey]]]);
  w.expectEqual(
    await w.query("info"),
    ["Settlement Euro", "sEUR", w.admin.publicKey, 0],
    "info: name, symbol, minter, supply 0",
  );

  w.section("Minting");
  r = await w.send(w.admin, "mint", [bank.publicKey, 1000]);
  w.expectEvents(r, [["mint", [bank.publicKey, 1000]]]);
  await w.send(bank, "mint", [bank.publicKey, 1_000_000], "NOT_MINTER");
  await w.send(w.admin, "mint", [bank.publicKey, 0], "BAD_AMOUNT");
  w.expectEqual(await w.query("balance", [bank.publicKey]), 1000, "the bank holds 1,000");

  w.section("Payments");
  r = await w.send(bank, "transfer", [merchant.publicKey, 300]);
  w.expectEvents(r, [["transfer", [bank.publicKey, merchant.publicKey, 300]]]);
  await w.send(merchant, "transfer", [bank.publicKey, 301], "INSUFFICIENT_FUNDS");
  r = await w.send(merchant, "transfer", [bank.publicKey, 100]);
  w.expectEvents(r, [["transfer", [merchant.publicKey, bank.publicKey, 100]]]);

  w.section("Balances and supply");
  w.expectEqual(await w.query("balance", [bank.publicKey]), 800, "the bank holds 800");
  w.expectEqual(await w.query("balance", [merchant.publicKey]), 200, "the merchant holds 200");
  w.expectEqual(await w.query("supply"), 1000, "the supply is still 1,000");
  await w.query("balance", [merchant.publicKey.subarray(0, 31)], "BAD_ARGS");
});
