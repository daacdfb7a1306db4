// `cairn tx pkv put|purge` and `cairn query private`: private data collections (docs/privacy.md).
import { CairnApiError, pkv, privateWrite } from "@cairn/client";
import { type Command, CommanderError } from "commander";
import { printJson } from "./output.ts";
import { type ReadOpts, readClient, readOptions, sendTx, type TxOpts, txOptions } from "./shared.ts";

export function privateCommands(tx: Command, query: Command): void {
  const pkvCmd = tx.command("pkv").description("the private key-value contract (private data collections)");
  txOptions(
    pkvCmd
      .command("put")
      .description(
        "write VALUE under KEY in COLLECTION (text): the chain records salted hashes, the plaintext goes only to member nodes; --url or --home must name a member organisation's node",
      )
      .argument("<collection>")
      .argument("<key>")
      .argument("<value>"),
  ).action(async (collection: string, key: string, value: string, o: TxOpts) => {
    await sendTx(pkv.put(), o, [privateWrite(collection, key, value)]);
  });
  txOptions(
    pkvCmd
      .command("purge")
      .description("drop KEY's plaintext from every member node now; its hash stays on chain (members only)")
      .argument("<collection>")
      .argument("<key>"),
  ).action(async (collection: string, key: string, o: TxOpts) => {
    await sendTx(pkv.purge(collection, key), o);
  });

  readOptions(
    query
      .command("private")
      .description(
        "the plaintext of KEY (text) in COLLECTION, from a member node, as a signed read (exit 4 when absent); --hash: only the hash every node holds",
      )
      .argument("<collection>")
      .argument("<key>")
      .option("--hash", "print the committed hash instead (any node, any member)"),
  ).action(async (collection: string, key: string, o: ReadOpts & { hash?: boolean }) => {
    const client = await readClient(o);
    if (o.hash) {
      const h = await client.getPrivateHash(collection, key);
      printJson(h);
      if (h.valueHash === undefined) notFound(`collection ${collection} has no key "${key}"`);
      return;
    }
    const d = await client.getPrivate(collection, key).catch((err: unknown) => {
      if (err instanceof CairnApiError && err.code === "KEY_NOT_FOUND")
        notFound(`collection ${collection} has no key "${key}"`);
      throw err;
    });
    printJson({ ...d, valueText: new TextDecoder().decode(Buffer.from(d.value, "hex")) });
  });
}

function notFound(message: string): never {
  process.stderr.write(`not found: ${message}\n`);
  throw new CommanderError(4, "cairn.notFound", message);
}
