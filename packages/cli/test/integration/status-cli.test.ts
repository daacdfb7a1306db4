import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KeyPair } from "@cairn/crypto";
import { createLoggers } from "@cairn/management";
import { signTransaction } from "@cairn/messaging";
import { type CairnNode, initHome, startNode } from "@cairn/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { formatAge, shortId } from "../../src/output.ts";
import { freePort, runCairnInProcess } from "./cli-run.ts";

/** Runs `cairn ...` in this process, as bin/cairn.ts does, with its output captured. */
const cairn = (...argv: string[]) => runCairnInProcess(argv);

function start(home: string): Promise<CairnNode> {
  return startNode({ home, config: { verifyWorkers: 1 }, loggers: createLoggers({ level: "silent", pretty: false }) });
}

async function waitForHeight(node: CairnNode, h: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (node.ledger.head().height < h) {
    if (Date.now() > deadline) throw new Error(`height ${node.ledger.head().height} < ${h}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A cluster directory as `cairn testnet` lays it out: DIR/node0 runs, DIR/node1 does not (yet).
let dir: string;
let homes: string[];
let admin: KeyPair;
const nodes: CairnNode[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-status-"));
  homes = [join(dir, "node0"), join(dir, "node1")];
  for (const [i, home] of homes.entries()) {
    mkdirSync(home);
    const init = await initHome({ home, moniker: `node${i}`, apiPort: await freePort() });
    if (i === 0) admin = init.admin;
  }
  nodes.push(await start(homes[0] as string));
});

afterAll(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("cairn status", () => {
  it("summarises a running node for people, by --url and by --home", async () => {
    const node = nodes[0] as CairnNode;
    for (const args of [
      ["--url", node.apiUrl],
      ["--home", homes[0] as string],
    ]) {
      const r = await cairn("status", ...args);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const lines = r.out.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^chain +cairn-dev {2}\(genesis [0-9a-f]{6}…[0-9a-f]{6}\)$/);
      expect(lines[1]).toContain(`node0  ${shortId(node.nodeId)}`);
      expect(lines[1]).toContain(node.apiUrl);
      expect(r.out).toMatch(/^role +validator$/m);
      expect(r.out).toMatch(/^height +0 {2}\(no block yet\)$/m);
      expect(r.out).toMatch(/^consensus +solo: height 1, round 0, step \w+$/m);
      expect(r.out).toMatch(/^peers +0 connected of 0 members$/m);
      expect(r.out).toMatch(/^validators +1 \(total power 1\)$/m);
      expect(r.out).toMatch(new RegExp(`^ {2}node0 {2}${shortId(node.nodeId)} {2}power 1 {2}\\(this node\\)$`, "m"));
      expect(r.out).toMatch(/^mempool +0 txs, 0 B \(max 100000 txs\)$/m);
      expect(r.out).toMatch(/^sync +idle \(no block sync running\)$/m);
    }
  });

  it("prints the raw status with --json", async () => {
    const node = nodes[0] as CairnNode;
    const r = await cairn("status", "--url", node.apiUrl, "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({
      chainId: "cairn-dev",
      nodeId: node.nodeId,
      moniker: "node0",
      height: node.ledger.head().height,
      consensus: { engine: "solo", height: node.ledger.head().height + 1, round: 0 },
      peers: [],
      network: { peers: 0, members: 0 },
      sync: { catchingUp: false },
      role: "validator",
    });
    expect(s.validators).toEqual([{ publicKey: node.nodeId, power: 1, name: "node0" }]);
  });

  it("says in one line which URL it tried and what to do when the node is down", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await cairn("status", "--url", url);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expect(r.err).toContain(`no node answers at ${url} (connection refused)`);
    expect(r.err).toContain("Is it started?");
    expect(r.err).not.toMatch(/\n\s+at /);

    const byHome = await cairn("status", "--home", homes[1] as string);
    expect(byHome.code).toBe(1);
    expect(byHome.err.trimEnd().split("\n")).toHaveLength(1);
    expect(byHome.err).toContain(`cairn start --home ${homes[1]}`);
  });

  it("names the missing config when --home is not a node home", async () => {
    const r = await cairn("status", "--home", join(dir, "nope"));
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expect(r.err).toContain(join(dir, "nope", "config.json"));
  });
});

describe("cairn cluster status", () => {
  it("shows a down node as a row and exits 1, then 0 once every node is up", async () => {
    const r = await cairn("cluster", "status", "--dir", dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NODE +API +STATE +ROLE +HEIGHT +ROUND +STEP +PEERS +MEMPOOL +LAST BLOCK$/);
    expect(lines[1]).toMatch(/^node0 +http:\/\/127\.0\.0\.1:\d+ +up +validator +0 +0 +\w+ +0 +0 +no block yet$/);
    expect(lines[2]).toMatch(/^node1 +http:\/\/127\.0\.0\.1:\d+ +down( +-){7}$/);
    expect(r.out).toContain("1 of 2 nodes up, chain cairn-dev");
    expect(r.out).toContain(`node1 is down (`);
    expect(r.out).toContain(`connection refused); start it: cairn start --home ${homes[1]}`);

    const json = await cairn("cluster", "status", "--dir", dir, "--json");
    expect(json.code).toBe(1);
    const rows = JSON.parse(json.out);
    expect(rows.map((n: { name: string; up: boolean }) => [n.name, n.up])).toEqual([
      ["node0", true],
      ["node1", false],
    ]);
    expect(rows[0].status.role).toBe("validator");
    expect(rows[1].error).toBe("connection refused");

    nodes.push(await start(homes[1] as string));
    const up = await cairn("cluster", "status", "--dir", dir);
    expect(up.code).toBe(0);
    expect(up.out).toContain("2 of 2 nodes up");
    expect(up.out).not.toContain("down");
  });

  it("reports the age of the last block", async () => {
    const node = nodes[0] as CairnNode;
    const tx = signTransaction(
      {
        chainId: "cairn-dev",
        sender: admin.publicKey,
        nonce: new Uint8Array(16).fill(7),
        expiry: 100,
        contract: "kv",
        method: "put",
        args: [new TextEncoder().encode("k"), new TextEncoder().encode("v")],
      },
      admin.secretKey,
    );
    const [added] = await node.mempool.add([tx.bytes]);
    expect(added?.ok).toBe(true);
    await waitForHeight(node, 1);
    const r = await cairn("cluster", "status", "--dir", dir);
    expect(r.out).toMatch(/^node0 .* validator +1 +.* \d+(ms|s) ago$/m);
  });

  it("explains an empty directory", async () => {
    const empty = mkdtempSync(join(tmpdir(), "cairn-nocluster-"));
    try {
      const r = await cairn("cluster", "status", "--dir", empty);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`no node homes in ${empty}`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("formatting helpers", () => {
  it("shortens ids and ages", () => {
    expect(shortId("4d6e07e1aabbccddeeff00112233445566778899aabbccddeeff001122a107e1")).toBe("4d6e07…a107e1");
    expect(shortId("short")).toBe("short");
    expect(formatAge(850)).toBe("850ms");
    expect(formatAge(12_400)).toBe("12s");
    expect(formatAge(184_000)).toBe("3m 04s");
    expect(formatAge(7_500_000)).toBe("2h 05m");
    expect(formatAge(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
    expect(formatAge(-5)).toBe("0ms");
  });
});
