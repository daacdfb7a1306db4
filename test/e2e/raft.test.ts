// The Raft engine as users run it: `cairn testnet --consensus raft`, one `cairn start` process per
// validator, real libp2p, LevelDB on disk, SIGKILL. Three validators under load lose their leader
// and a follower; five are split 2|3 by a network partition (network namespaces, as the Tendermint
// partition test); one is killed at random moments over and over and never grants two votes in a
// term. What is checked is what Raft promises: agreement, durability of what was acknowledged, and
// progress whenever a majority is up and connected.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, type KeyPair, prng, toHex } from "@cairn/crypto";
import type { Value } from "@cairn/messaging";
import { launchChromium } from "@cairn/test-utils/browser";
import { afterEach, describe, expect, it } from "vitest";
import { createNetLab, type NetLab, netnsUnavailable } from "../helpers/netns.ts";
import {
  freePort,
  type NodeProcess,
  REPO,
  runCairn,
  type StartOptions,
  startNodeProcess,
  tempDir,
} from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey, signedCall } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const running: NodeProcess[] = [];
let lab: NetLab | undefined;
afterEach(async () => {
  for (const n of running.splice(0)) await n.kill();
  lab?.destroy();
  lab = undefined;
});

/** Info lines of the consensus layer, so each granted vote is on record. */
const LOG = ["--log-level", "warn,consensus=info"];

interface Chain {
  readonly homes: string[];
  readonly base: number;
  readonly chainId: string;
  readonly admin: KeyPair;
  readonly nodes: (NodeProcess | undefined)[];
  /** Every line each node wrote, across its restarts. */
  readonly outputs: string[];
}

async function raftChain(validators: number, tag: string): Promise<Chain> {
  const out = tempDir(tag);
  const base = 20_000 + ((await freePort()) % 20_000);
  const made = await runCairn([
    "testnet",
    "--validators",
    String(validators),
    "--out",
    out,
    "--base-port",
    String(base),
    "--consensus",
    "raft",
  ]);
  expect(made.code, made.stderr).toBe(0);
  const homes = Array.from({ length: validators }, (_, i) => join(out, `node${i}`));
  const genesis = JSON.parse(readFileSync(join(homes[0] as string, "genesis.json"), "utf8"));
  expect(genesis.consensus).toBe("raft");
  return {
    homes,
    base,
    chainId: genesis.chainId,
    admin: readKey(homes[0] as string),
    nodes: [],
    outputs: homes.map(() => ""),
  };
}

async function start(c: Chain, i: number, opts: StartOptions = {}): Promise<NodeProcess> {
  const n = await startNodeProcess(c.homes[i] as string, c.base + i, LOG, opts);
  c.nodes[i] = n;
  running.push(n);
  return n;
}

async function kill(c: Chain, i: number): Promise<void> {
  const n = c.nodes[i];
  if (n === undefined) return;
  await n.kill();
  c.outputs[i] += n.output();
  c.nodes[i] = undefined;
}

const url = (c: Chain, i: number) => c.nodes[i]?.url ?? `http://127.0.0.1:${c.base + i}`;
const status = async (u: string) => (await getJson(`${u}/status`)).body;

/** The index of the node every live node names as leader (all agree), once they do. */
async function leaderOf(c: Chain, live: number[]): Promise<number> {
  let found = -1;
  await waitFor(
    "the live nodes to agree on a leader",
    async () => {
      const s = await Promise.all(live.map((i) => status(url(c, i)).catch(() => undefined)));
      const leaders = new Set(s.map((x) => x?.consensus.raft?.leader ?? null));
      if (leaders.size !== 1 || leaders.has(null)) return false;
      const key = [...leaders][0];
      found = live.find((_, k) => s[k]?.nodeId === key) ?? -1;
      return found >= 0;
    },
    30_000,
  );
  return found;
}

/** Every height up to the lowest head holds one block hash on all the given nodes. */
async function expectNoFork(urls: string[]): Promise<number> {
  const top = Math.min(...(await Promise.all(urls.map(async (u) => (await status(u)).height))));
  for (let h = 1; h <= top; h++) {
    const hashes = await Promise.all(urls.map(async (u) => (await getJson(`${u}/blocks/${h}`)).body.hash));
    expect(new Set(hashes).size, `height ${h}: ${hashes.join(" ")}`).toBe(1);
  }
  return top;
}

/** What each node says about itself and about the transactions it has not committed, and its last log lines. */
async function diagnose(c: Chain, urls: string[], hashes: string[]): Promise<string> {
  const lines: string[] = [];
  for (const [i, u] of urls.entries()) {
    const s = await status(u).catch((e: Error) => ({ error: e.message }));
    const missing: string[] = [];
    for (const h of hashes) {
      const t = (await getJson(`${u}/txs/${h}`).catch(() => ({ body: { status: "unreachable" } }))).body.status;
      if (t !== "committed") missing.push(`${h.slice(0, 8)}:${t}`);
    }
    lines.push(`node${i}: ${JSON.stringify({ height: s.height, raft: s.consensus?.raft, peers: s.peers })}`);
    lines.push(`  not committed: ${missing.join(" ") || "none"}`);
    const out = (c.outputs[i] ?? "") + (c.nodes[i]?.output() ?? "");
    lines.push(
      ...out
        .trim()
        .split("\n")
        .slice(-25)
        .map((l) => `  | ${l.slice(0, 300)}`),
    );
  }
  return lines.join("\n");
}

async function committedEverywhere(urls: string[], hashes: string[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${hashes.length} transactions committed on every node`,
    async () => {
      for (const u of urls)
        for (const h of hashes) if ((await getJson(`${u}/txs/${h}`)).body.status !== "committed") return false;
      return true;
    },
    timeoutMs,
  );
}

describe("Raft, as processes", () => {
  it("3 validators: identical blocks; the leader SIGKILLed under load: a new leader, commits resume, nothing acknowledged lost; a killed follower catches up", {
    timeout: 240_000,
  }, async () => {
    const c = await raftChain(3, "raft3");
    await Promise.all([0, 1, 2].map((i) => start(c, i)));
    const leader = await leaderOf(c, [0, 1, 2]);
    const followers = [0, 1, 2].filter((i) => i !== leader);

    // Load on a follower (the leader is about to die): batches acknowledged as committed.
    const acked: string[] = [];
    const accepted: string[] = [];
    let stop = false;
    const load = (async () => {
      for (let b = 0; b < 400 && !stop; b++) {
        const txs = Array.from({ length: 5 }, (_, k) => kvPut(c.admin, c.chainId, `load${b}-${k}`, "v"));
        const r = await postTxs(url(c, followers[0] as number), txs, true).catch(() => undefined);
        for (const [k, res] of (r?.body.results ?? []).entries()) {
          const hash = toHex(txs[k]!.hash);
          if (res.status === "committed") acked.push(hash);
          else if (res.status === "pending") accepted.push(hash);
        }
      }
    })();
    await waitFor("some load committed", async () => acked.length >= 20, 30_000);
    const killedAt = Date.now();
    await kill(c, leader);
    // A new leader among the two left, and commits resume.
    const next = await leaderOf(c, followers);
    expect(next).not.toBe(leader);
    const before = acked.length;
    await waitFor("commits to resume without the old leader", async () => acked.length >= before + 10, 30_000);
    const s = await status(url(c, next));
    expect(s.consensus.raft.term).toBeGreaterThan(1);
    process.stderr.write(
      `raft e2e: first commit after the leader's SIGKILL in ${Date.now() - killedAt} ms (upper bound)\n`,
    );

    // A follower killed and restarted catches up.
    const other = followers.find((i) => i !== next) as number;
    await kill(c, other);
    // One of two left cannot commit; restart it at once.
    await start(c, other);
    stop = true;
    await load;
    await start(c, leader);
    const urls = [0, 1, 2].map((i) => url(c, i));
    await waitFor(
      "every node at the same height",
      async () => {
        const h = await Promise.all(urls.map(async (u) => (await status(u)).height));
        return Math.min(...h) === Math.max(...h) && Math.min(...h) > 0;
      },
      60_000,
    );
    // Everything acknowledged as committed is committed on every node, once; what was accepted commits too.
    await committedEverywhere(urls, [...acked, ...accepted]);
    const top = await expectNoFork(urls);
    const seen = new Map<string, number>();
    for (let h = 1; h <= top; h++)
      for (const t of (await getJson(`${urls[0]}/blocks/${h}`)).body.txs as string[])
        seen.set(t, (seen.get(t) ?? 0) + 1);
    for (const h of acked) expect(seen.get(h), h).toBe(1);
    // Every block's certificate: acknowledgements in the leader's term from a majority.
    const block = (await getJson(`${urls[0]}/blocks/${top}`)).body;
    expect(block.commit.signatures.length).toBeGreaterThanOrEqual(2);
  });

  it("5 validators split 2|3: the minority commits nothing, the majority goes on; healed, no fork", {
    timeout: 240_000,
  }, async () => {
    const why = netnsUnavailable();
    if (why !== undefined) throw new Error(why);
    lab = createNetLab(5, [3, 4], `r${process.pid % 10_000}`);
    const c = await raftChain(5, "raft5");
    const p2p = (i: number) => `/tcp/${c.base + 100 + i}`;
    for (const home of c.homes) {
      const file = join(home, "config.json");
      let text = readFileSync(file, "utf8");
      lab.nodes.forEach((n, i) => {
        text = text.replaceAll(`/ip4/127.0.0.1${p2p(i)}`, `/ip4/${n.ip}${p2p(i)}`);
      });
      writeFileSync(file, text);
    }
    const nets = lab.nodes;
    await Promise.all([0, 1, 2, 3, 4].map((i) => start(c, i, { host: nets[i]!.ip, netns: nets[i]!.netns })));
    const urls = [0, 1, 2, 3, 4].map((i) => url(c, i));
    await leaderOf(c, [0, 1, 2, 3, 4]);
    const first = await postTxs(urls[0]!, [kvPut(c.admin, c.chainId, "before", "split")], true);
    expect(first.body.results[0].status).toBe("committed");

    lab.partition();
    const minority = [3, 4];
    const majority = [0, 1, 2];
    // The minority may finish the block in flight; then it is stuck.
    await new Promise((r) => setTimeout(r, 3_000));
    const cut = await Promise.all(minority.map(async (i) => (await status(urls[i]!)).height));
    const sideB = Array.from({ length: 5 }, (_, k) => kvPut(c.admin, c.chainId, `minority${k}`, "b"));
    const accB = await postTxs(urls[3]!, sideB);
    for (const r of accB.body.results) expect(r.status).toBe("pending");
    // The majority elects a leader if it had none and commits.
    const sideA = Array.from({ length: 5 }, (_, k) => kvPut(c.admin, c.chainId, `majority${k}`, "a"));
    await waitFor(
      "the majority side to commit",
      async () => {
        const r = await postTxs(urls[0]!, sideA, true).catch(() => undefined);
        return (
          r?.body.results.every((x: { status: string }) => x.status === "committed" || x.status === "known") ?? false
        );
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 5_000));
    const during = await Promise.all(minority.map(async (i) => (await status(urls[i]!)).height));
    expect(during).toEqual(cut);
    for (const t of sideB) expect((await getJson(`${urls[3]}/txs/${toHex(t.hash)}`)).body.status).not.toBe("committed");
    const majorityTop = Math.min(...(await Promise.all(majority.map(async (i) => (await status(urls[i]!)).height))));
    expect(majorityTop).toBeGreaterThan(Math.max(...cut));
    await expectNoFork(majority.map((i) => urls[i]!));

    lab.heal();
    const hashes = [...sideA, ...sideB].map((t) => toHex(t.hash));
    try {
      await committedEverywhere(urls, hashes, 90_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await diagnose(c, urls, hashes)}`);
    }
    const top = await expectNoFork(urls);
    expect(top).toBeGreaterThan(majorityTop);
  });

  it("a validator SIGKILLed at random moments, again and again, never grants two votes in one term", {
    timeout: 300_000,
  }, async () => {
    const c = await raftChain(3, "raftvotes");
    await Promise.all([0, 1, 2].map((i) => start(c, i)));
    const rand = prng(20261206);
    let stop = false;
    const load = (async () => {
      for (let b = 0; b < 2_000 && !stop; b++) {
        const live = [0, 1, 2].filter((i) => c.nodes[i] !== undefined);
        const to = live[b % live.length];
        if (to === undefined) continue;
        await postTxs(url(c, to), [kvPut(c.admin, c.chainId, `v${b}`, "v")]).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // Kill whichever node leads (elections happen) or another, at random moments.
    for (let round = 0; round < 8; round++) {
      await new Promise((r) => setTimeout(r, 300 + rand() * 2_500));
      const live = [0, 1, 2].filter((i) => c.nodes[i] !== undefined);
      const victim =
        rand() < 0.6 ? await leaderOf(c, live).catch(() => live[0]!) : live[Math.floor(rand() * live.length)]!;
      await kill(c, victim);
      await new Promise((r) => setTimeout(r, rand() * 1_500));
      await start(c, victim);
    }
    stop = true;
    await load;
    for (const i of [0, 1, 2]) await kill(c, i);
    // Each node's granted votes, across all its lives: one candidate per term.
    let votes = 0;
    for (const [i, text] of c.outputs.entries()) {
      const byTerm = new Map<number, Set<string>>();
      for (const line of text.split("\n")) {
        if (!line.includes('"raft: vote granted"')) continue;
        const v = JSON.parse(line) as { term: number; candidate: string };
        votes++;
        byTerm.set(v.term, (byTerm.get(v.term) ?? new Set()).add(v.candidate));
      }
      for (const [term, candidates] of byTerm) expect(candidates.size, `node${i} term ${term}`).toBe(1);
    }
    // The run held elections (leaders were killed), so the check is not vacuous.
    expect(votes).toBeGreaterThanOrEqual(3);
    // And the chain is one chain.
    await Promise.all([0, 1, 2].map((i) => start(c, i)));
    await leaderOf(c, [0, 1, 2]);
    await expectNoFork([0, 1, 2].map((i) => url(c, i)));
  });

  it("the console shows a Raft chain: terms, roles, the leader, elections; the explorer verifies a Raft certificate in the browser", {
    timeout: 180_000,
  }, async () => {
    if (!existsSync(join(REPO, "packages/console/dist/index.html"))) {
      execFileSync(process.execPath, [join(REPO, "packages/console/build.mjs")], { stdio: "inherit" });
    }
    const c = await raftChain(3, "raftconsole");
    await Promise.all([0, 1, 2].map((i) => start(c, i)));
    const leader = await leaderOf(c, [0, 1, 2]);
    await postTxs(url(c, 0), [kvPut(c.admin, c.chainId, "console", "raft")], true);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push((e as Error).message));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      await page.goto(`${url(c, 0)}/console/#/consensus`, { waitUntil: "domcontentloaded" });
      await page.waitForSelector('.consensus-view[data-engine="raft"]', { timeout: 20_000 });
      // The node names its leader, by its validator name (the console lists the nodes it knows: here
      // the one that served it, as no cluster supervisor tells it of the others).
      await page.waitForFunction(
        (name: string) => {
          const cells = [...document.querySelectorAll("td[data-leader]")].map((td) => td.textContent);
          return cells.length >= 1 && cells.every((t) => t === name);
        },
        { timeout: 20_000 },
        `node${leader}`,
      );
      const head = await page.$$eval(".consensus-view table.nodes th", (ths) => ths.map((t) => t.textContent));
      expect(head).toEqual(expect.arrayContaining(["term", "raft role", "leader", "commit index"]));
      // The leader's election, as node0 saw it, and a commit.
      await page.waitForFunction(
        () => /granted (pre-)?vote|won the election|heard from the leader/.test(document.body.textContent),
        {
          timeout: 20_000,
        },
      );
      await page.waitForFunction(() => document.body.textContent.includes("committed block"), { timeout: 20_000 });
      // The explorer checks a block's Raft certificate (acknowledgements of more than half) in the browser.
      await page.goto(`${url(c, 0)}/console/#/explorer`);
      await page.waitForSelector("[data-open-block]");
      await page.click("[data-open-block]");
      await page.waitForSelector("[data-block] [data-verified]");
      expect(await page.$eval("[data-block] [data-verified]", (e) => e.getAttribute("data-verified"))).toBe("true");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("membership by governance, one change at a time: a joined node follows as a learner, becomes a voter, another validator leaves; commits go on", {
    timeout: 240_000,
  }, async () => {
    const c = await raftChain(3, "raftmembers");
    const out = join(c.homes[0] as string, "..");
    await Promise.all([0, 1, 2].map((i) => start(c, i)));
    await leaderOf(c, [0, 1, 2]);
    const admins = [0, 1, 2].map((i) => readKey(out, `org${i}-admin`));
    let proposals = 0;
    const govTx = async (admin: KeyPair, method: string, args: Value[]) => {
      const r = await postTxs(url(c, 0), [signedCall(admin, c.chainId, "gov", method, args, 300)], true);
      const res = r.body.results[0];
      expect(res.status, JSON.stringify(res)).toBe("committed");
      return res as { height: number; receipt: { code: string; events: { name: string }[] } };
    };
    /** org0 proposes, org1 approves: 2 of 3 organisations, more than half. */
    const pass = async (action: string, args: Value[]) => {
      expect((await govTx(admins[0]!, "propose", [action, args])).receipt.code).toBe("OK");
      const done = await govTx(admins[1]!, "approve", [++proposals]);
      expect(done.receipt.events.map((e) => e.name)).toContain("executed");
      return done.height;
    };
    const write = async (to: number) => {
      const r = await postTxs(url(c, to), [kvPut(c.admin, c.chainId, `m${Date.now()}`, "v")], true);
      expect(r.body.results[0].status).toBe("committed");
      return r.body.results[0].height as number;
    };
    const signers = async (h: number) =>
      ((await getJson(`${url(c, 0)}/blocks/${h}`)).body.commit.signatures as { validator: string }[]).map(
        (x) => x.validator,
      );

    // A new node joins and is registered: it follows the leader as a learner (no vote, no acknowledgement).
    const joined = await runCairn([
      "join",
      "--from",
      c.homes[0] as string,
      "--out",
      join(out, "node3"),
      "--api-port",
      String(c.base + 3),
      "--p2p-port",
      String(c.base + 103),
      "--moniker",
      "node3",
      "--json",
    ]);
    expect(joined.code, joined.stderr).toBe(0);
    const node3 = JSON.parse(joined.stdout) as { home: string; peerId: string; publicKey: string };
    c.homes.push(node3.home);
    c.outputs.push("");
    await pass("add-node", [node3.peerId, "node3", "org0"]);
    await start(c, 3);
    const h = await write(1);
    await waitFor("the learner to catch up", async () => (await status(url(c, 3))).height >= h, 60_000);
    const learner = await status(url(c, 3));
    expect(learner.role).toBe("observer");
    expect(learner.consensus.raft.role).toBe("learner");

    // It becomes a validator (one change, at approval + validatorDelay) and acknowledges blocks.
    const added = await pass("add-validator", [fromHex(node3.publicKey), 1, "node3"]);
    await waitFor(
      "a block acknowledged by the new validator",
      async () => {
        const head = await write(2);
        for (let x = added + 2; x <= head; x++) if ((await signers(x)).includes(node3.publicKey)) return true;
        return false;
      },
      60_000,
    );
    await waitFor("node3 to vote", async () => (await status(url(c, 3))).consensus.raft.role !== "learner");

    // node2 leaves the set: the other three go on, and its acknowledgements stop counting.
    const node2Key = (await status(url(c, 2))).nodeId as string;
    const removed = await pass("remove-validator", [fromHex(node2Key)]);
    let last = 0;
    for (let k = 0; k < 3; k++) last = await write(k === 2 ? 3 : k);
    expect(last).toBeGreaterThan(removed + 2);
    expect(await signers(last)).not.toContain(node2Key);
    const set = (await status(url(c, 0))).validators.map((v: { name: string }) => v.name).sort();
    expect(set).toEqual(["node0", "node1", "node3"]);
    await waitFor(
      "node2 to follow as a learner",
      async () => (await status(url(c, 2))).consensus.raft.role === "learner",
    );
    await expectNoFork([0, 1, 2, 3].map((i) => url(c, i)));
  });
});
