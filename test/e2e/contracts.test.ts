// WebAssembly contracts on a 4-validator cluster of real processes: a contract deployed with one
// CLI command (`cairn contract deploy DIR`, which builds it) runs identically on every node; hostile
// contracts fail with clear receipt codes, the same on every node, and the nodes stay healthy;
// modules that break the rules are refused at deploy; an upgrade keeps the contract's state.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildContract } from "@cairn/contract-sdk/build";
import { toHex } from "@cairn/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, REPO, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, readKey, signedCall } from "../helpers/txs.ts";

const EXAMPLES = join(REPO, "packages/contract-examples/contracts");
const nodes: NodeProcess[] = [];
afterAll(async () => {
  for (const n of nodes) await n.kill();
});

let token: Uint8Array;
let hostile: Uint8Array;
let clockImport: Uint8Array;
beforeAll(async () => {
  token = (await buildContract(join(EXAMPLES, "token"))).wasm;
  hostile = (await buildContract(join(EXAMPLES, "hostile"))).wasm;
  // What a contract reading the clock compiles to: an import the host does not provide.
  const wabt = await (await import("wabt")).default();
  const wat = `(module (import "env" "Date.now" (func (result i64))) (memory (export "memory") 1 1)
    (func (export "now")))`;
  clockImport = new Uint8Array(wabt.parseWat("clock.wat", wat).toBinary({}).buffer);
}, 120_000);

async function submit(url: string, txs: ReturnType<typeof signedCall>[]) {
  const r = await fetch(`${url}/txs?wait=commit&timeout=20000`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ txs: txs.map((t) => toHex(t.bytes)) }),
  });
  const body = (await r.json()) as { results: { status: string; hash: string; height: number }[] };
  return Promise.all(
    body.results.map(async (res) => {
      expect(res.status, JSON.stringify(res)).toBe("committed");
      return (await getJson(`${url}/txs/${res.hash}`)).body.receipt as {
        code: string;
        message: string;
        gasUsed: number;
        events: { name: string; data: unknown }[];
      };
    }),
  );
}

/** Submits one transaction the node must refuse; returns the error code (HTTP 403 for a privilege). */
async function refusedAtAdmission(url: string, tx: ReturnType<typeof signedCall>): Promise<string> {
  const r = await fetch(`${url}/txs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tx: toHex(tx.bytes) }),
  });
  const body = (await r.json()) as { error: { code: string } };
  expect(r.status, JSON.stringify(body)).toBe(403);
  return body.error.code;
}

async function query(url: string, contract: string, method: string, args: unknown[] = []) {
  const { encode } = await import("@cairn/messaging");
  const r = await fetch(`${url}/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ contract, method, args: toHex(encode(args as never)) }),
  });
  return { status: r.status, body: (await r.json()) as any };
}

describe("WebAssembly contracts on a 4-validator cluster", () => {
  it("deploy with one command, identical results on every node, hostile contracts contained, upgrades keep state", {
    timeout: 240_000,
  }, async () => {
    const out = tempDir("contracts");
    const base = 20_000 + ((await freePort()) % 20_000);
    expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    for (let i = 0; i < 4; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    const urls = nodes.map((n) => n.url);
    const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
    const admin = readKey(homes[0]!);
    const client = readKey(out, "client");

    // One command: build the example directory and deploy it with the admin key of node0's home.
    const dep = await runCairn(
      ["contract", "deploy", join(EXAMPLES, "token"), "--name", "pay", "--home", homes[0]!],
      120_000,
    );
    expect(dep.code, dep.stderr).toBe(0);
    const info = (await getJson(`${urls[3]}/contracts/pay`)).body;
    expect(info).toMatchObject({ name: "pay", kind: "wasm", version: 1, deployer: toHex(admin.publicKey) });
    expect(info.methods).toEqual(expect.arrayContaining(["init", "mint", "transfer", "balance", "supply"]));

    // Calls through any node; every node answers the same queries.
    const [init, mint] = await submit(urls[1]!, [
      signedCall(admin, chainId, "pay", "init", ["Cairn Pay", "CPY"], 300),
      signedCall(admin, chainId, "pay", "mint", [client.publicKey, 1_000], 300),
    ]);
    expect([init!.code, mint!.code]).toEqual(["OK", "OK"]);
    const [t1, t2] = await submit(urls[2]!, [
      signedCall(client, chainId, "pay", "transfer", [admin.publicKey, 300], 300),
      signedCall(client, chainId, "pay", "transfer", [admin.publicKey, 5_000], 300),
    ]);
    expect([t1!.code, t2!.code]).toEqual(["OK", "INSUFFICIENT_FUNDS"]);
    expect(t1!.gasUsed).toBeGreaterThan(0);
    expect(t1!.events.map((e) => e.name)).toEqual(["transfer"]);
    await waitForEqualHeights(urls);
    for (const u of urls) {
      const q = await query(u, "pay", "balance", [client.publicKey]);
      expect(q.body, u).toMatchObject({ ok: true, output: 700 });
    }
    expect((await query(urls[0]!, "nothing", "x")).status).toBe(404);

    // Modules that break the rules are refused at deploy, on every node alike.
    const refused = await submit(urls[0]!, [
      signedCall(admin, chainId, "contracts", "deploy", ["junk", new TextEncoder().encode("not a module")], 300),
      signedCall(admin, chainId, "contracts", "deploy", ["clock", clockImport], 300),
    ]);
    expect(refused.map((r) => r.code)).toEqual(["INVALID_MODULE", "INVALID_MODULE"]);
    expect(refused[1]!.message).toMatch(/import/);
    // The chain is permissioned: a key with only the client role may not deploy, and the node says
    // so at submission (docs/governance.md).
    expect(
      await refusedAtAdmission(urls[0]!, signedCall(client, chainId, "contracts", "deploy", ["mine", token], 300)),
    ).toBe("ROLE_REQUIRED");

    // Hostile contracts: each fails with its own clear code; the chain and the nodes carry on.
    const [d] = await submit(urls[0]!, [signedCall(admin, chainId, "contracts", "deploy", ["evil", hostile], 300)]);
    expect(d!.code).toBe("OK");
    const methods = ["spin", "recurse", "bomb", "hugeEvent", "bigWrite", "ok"];
    const receipts = await submit(
      urls[3]!,
      methods.map((m) => signedCall(client, chainId, "evil", m, [], 300)),
    );
    const byMethod = Object.fromEntries(methods.map((m, i) => [m, receipts[i]!.code]));
    expect(byMethod).toMatchObject({
      spin: "OUT_OF_GAS",
      recurse: "CALL_DEPTH_EXCEEDED",
      hugeEvent: "BAD_HOST_CALL",
      bigWrite: "BAD_HOST_CALL",
      ok: "OK",
    });
    expect(["OUT_OF_GAS", "CONTRACT_ABORT", "CONTRACT_TRAP"]).toContain(byMethod.bomb);
    for (const u of urls) expect((await fetch(`${u}/health`)).status, u).toBe(200);
    const top = await waitForEqualHeights(urls);
    for (let h = 1; h <= top; h++) {
      const blocks = await Promise.all(urls.map((u) => getJson(`${u}/blocks/${h}`)));
      expect(new Set(blocks.map((b) => b.body.hash)).size, `height ${h}`).toBe(1);
    }

    // Upgrade: new code, same state; recorded on chain with its version; admins only.
    const [up] = await submit(urls[1]!, [
      signedCall(
        admin,
        chainId,
        "contracts",
        "upgrade",
        ["pay", (await buildContract(join(EXAMPLES, "token"), { optimize: false })).wasm],
        300,
      ),
    ]);
    expect(up!.code).toBe("OK");
    expect(
      await refusedAtAdmission(urls[1]!, signedCall(client, chainId, "contracts", "upgrade", ["pay", token], 300)),
    ).toBe("ROLE_REQUIRED");
    // The upgrade committed on node1; node2 is read once it has that block too.
    await waitForEqualHeights(urls);
    expect((await getJson(`${urls[2]}/contracts/pay`)).body).toMatchObject({ version: 2 });
    expect((await query(urls[2]!, "pay", "balance", [client.publicKey])).body).toMatchObject({ ok: true, output: 700 });
  });
});

async function waitForEqualHeights(urls: string[]): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const hs = await Promise.all(urls.map(async (u) => (await getJson(`${u}/status`)).body.height as number));
    if (hs.every((h) => h === hs[0])) return hs[0]!;
    if (Date.now() > deadline) throw new Error(`heights never met: ${hs.join(" ")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
