// The documents cannot drift from the node: every JSON response example of docs/api.md is compared,
// field by field, with what a live 4-validator cluster (`cairn testnet`, one process per node)
// answers to the same request. A field the document shows must be there with the same JSON type,
// and a field the node sends must be in the document (except the few the document says are
// optional). Values (hashes, heights, times) differ from run to run and are not compared.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "@cairn/crypto";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, REPO, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { kvPut, postTxs, readKey } from "../helpers/txs.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Each `###`/`##` section of docs/api.md with the JSON blocks it shows, in order. */
function examples(): Map<string, Json[]> {
  const text = readFileSync(join(REPO, "docs/api.md"), "utf8");
  const parts = text.split(/\n(#{2,3} .*)\n/);
  const out = new Map<string, Json[]>();
  for (let i = 1; i < parts.length; i += 2) {
    const blocks = [...(parts[i + 1] as string).matchAll(/```json\n([\s\S]*?)```/g)].map((m) =>
      // The documents elide long hex with "…" inside strings only: still valid JSON.
      JSON.parse(m[1] as string),
    );
    out.set(parts[i] as string, blocks);
  }
  return out;
}

function kind(v: Json): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Where `live` disagrees with the documented `doc`, as paths; `optional` fields may be absent from either. */
function compare(doc: Json, live: Json, path: string, optional: ReadonlySet<string>, out: string[]): void {
  if (doc === null || live === null) return; // null stands for "none yet" on one side
  if (kind(doc) !== kind(live)) {
    out.push(`${path}: documented ${kind(doc)}, node sends ${kind(live)}`);
    return;
  }
  if (Array.isArray(doc) && Array.isArray(live)) {
    if (doc.length > 0 && live.length > 0) compare(doc[0] as Json, live[0] as Json, `${path}[0]`, optional, out);
    return;
  }
  if (typeof doc === "object" && typeof live === "object") {
    const d = doc as Record<string, Json>;
    const l = live as Record<string, Json>;
    for (const k of Object.keys(d)) {
      if (!(k in l)) {
        if (!optional.has(k)) out.push(`${path}.${k}: documented, not sent`);
      } else compare(d[k] as Json, l[k] as Json, `${path}.${k}`, optional, out);
    }
    for (const k of Object.keys(l)) if (!(k in d) && !optional.has(k)) out.push(`${path}.${k}: sent, not documented`);
  }
}

const nodes: NodeProcess[] = [];
afterAll(async () => {
  for (const n of nodes) await n.kill();
});

describe("docs/api.md examples against a live cluster", () => {
  it("every documented response has the fields and types the node sends", { timeout: 240_000 }, async () => {
    const out = tempDir("docs");
    const base = 20_000 + ((await freePort()) % 20_000);
    expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    for (let i = 0; i < 4; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    const url = nodes[0]!.url;
    const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
    const admin = readKey(homes[0]!);
    const json = async (path: string, init?: RequestInit) =>
      (await fetch(`${url}${path}`, init)).json() as Promise<Json>;

    // What the examples show: a committed kv put, a pending one, a deployed counter, a proposal.
    const put = kvPut(admin, chainId, "greeting", "hello, ledger");
    const committed = await postTxs(url, [put], true);
    expect(committed.body.committed).toBe(1);
    const contractDir = tempDir("docs-contract");
    expect((await runCairn(["contract", "new", "counter", "--dir", contractDir])).code).toBe(0);
    const deploy = await runCairn(
      ["contract", "deploy", join(contractDir, "counter"), "--name", "counter", "--home", homes[0]!],
      120_000,
    );
    expect(deploy.code, deploy.stderr).toBe(0);
    const member = generateKeyPair(); // a key no organisation holds yet
    const propose = await runCairn([
      "gov",
      "propose",
      "add-member",
      Buffer.from(member.publicKey).toString("hex"),
      "org1",
      "client",
      "--home",
      homes[1]!,
    ]);
    expect(propose.code, propose.stderr).toBe(0);
    // Executed, as in the example: two more organisations approve (3 of 4).
    for (const h of [homes[2]!, homes[3]!]) {
      const approve = await runCairn(["gov", "approve", "1", "--home", h]);
      expect(approve.code, approve.stderr).toBe(0);
    }
    const hash = Buffer.from(put.hash).toString("hex");
    const single = (tx: typeof put) =>
      json("/txs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tx: Buffer.from(tx.bytes).toString("hex") }),
      });

    const live: [string, number, () => Promise<Json>, string[]][] = [
      ["### `POST /txs` — submit transactions", 0, () => single(kvPut(admin, chainId, "k2", "v2")), []],
      ["### `POST /txs` — submit transactions", 1, () => single(kvPut(admin, "other-chain", "k3", "v3")), []],
      ["### `GET /txs/:hash` — transaction status", 0, () => json(`/txs/${hash}`), []],
      ["### `GET /txs/:hash` — transaction status", 1, () => json(`/txs/${"ab".repeat(32)}`), []],
      [
        "### `GET /txs/:hash/trace` — the transaction's journey through this node",
        0,
        () => json(`/txs/${hash}/trace`),
        [],
      ],
      ["### `GET /blocks/latest`, `GET /blocks/:height` — blocks", 0, () => json(`/blocks/1`), []],
      ["### `GET /state/:contract/:key` — world state", 0, () => json("/state/kv/greeting"), []],
      ["### `POST /query` — read-only contract calls", 0, () => json("/query", queryBody("get")), []],
      ["### `GET /contracts/:name` — a contract's description", 0, () => json("/contracts/counter"), []],
      ["### `GET /gov/…` — governance", 0, () => json("/gov/proposals/1"), []],
      // `clock` appears once proposals from others arrived; `lastCaughtUpAt` once block sync ran.
      ["### `GET /status` — node status", 0, () => json("/status"), ["clock", "lastCaughtUpAt"]],
      ["### `GET /ready` — readiness", 0, () => json("/ready"), []],
      ["## GET /evidence", 0, () => json("/evidence"), []],
      ["### `GET /logs` — the node's recent log lines", 0, () => json("/logs?limit=1"), []],
      [
        "### `GET /consensus/events` — what the consensus engine saw and did",
        0,
        async () => {
          // The documented example shows a vote then the commit: compare with this node's latest pair.
          const all = (await json("/consensus/events")) as { last: number; events: { kind: string }[] };
          const i = all.events.findLastIndex((e, k) => e.kind === "commit" && all.events[k - 1]?.kind === "vote");
          return { last: all.last, events: [all.events[i - 1], all.events[i]] } as Json;
        },
        [],
      ],
    ];
    const docs = examples();
    const problems: string[] = [];
    for (const [section, index, fetchLive, optional] of live) {
      const doc = docs.get(section)?.[index];
      expect(doc, `${section} example ${index}`).toBeDefined();
      compare(doc as Json, await fetchLive(), `${section} #${index}`, new Set(optional), problems);
    }
    expect(problems).toEqual([]);
  });
});

function queryBody(method: string): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ contract: "counter", method, args: "90" }),
  };
}
