// The Cairn Console in a real headless Chromium (puppeteer-core with Debian's chromium) against a
// real 4-validator cluster started the way a user starts it (`cairn cluster`, which `npm start`
// runs): the map draws all 22 components with figures that change under load; a transaction sent
// from the page shows every stage on every validator; killing a node from the cluster view shows in
// the consensus view within 5 s and the chain keeps committing; the explorer verifies a certificate
// and proofs in the browser; a members-only chain works with a key file loaded in the page. No
// console error, no request leaving the machine; a screenshot of each view is saved (CONSOLE_SHOTS,
// default $TMPDIR/cairn-console-shots).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestnet } from "@cairn/cluster";
import { launchChromium } from "@cairn/test-utils/browser";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAIRN, freePort, type NodeProcess, REPO, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { kvPut, postTxs, readKey } from "../helpers/txs.ts";
import { until } from "../helpers/wait.ts";

const SHOTS = process.env.CONSOLE_SHOTS ?? join(tmpdir(), "cairn-console-shots");
const COMPONENTS = 22;

/** The console's build (npm install makes it; a checkout that skipped it gets it here). */
function ensureBuilt(): void {
  if (!existsSync(join(REPO, "packages/console/dist/index.html"))) {
    execFileSync(process.execPath, [join(REPO, "packages/console/build.mjs")], { stdio: "inherit" });
  }
}

interface Watched {
  readonly errors: string[];
  readonly requests: string[];
}

/**
 * Records the page's console errors, uncaught exceptions and every request URL. A request the
 * browser could not complete because a node is down (or refused a read, `refused`) is logged by
 * Chromium as a console error about that resource; `expected(url, text)` says which are part of the test.
 */
function watch(page: Page, expected: (url: string, text: string) => boolean = () => false): Watched {
  const w: Watched = { errors: [], requests: [] };
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const where = m.location()?.url ?? "";
    if (!expected(where, m.text())) w.errors.push(`console: ${m.text()} (${where})`);
  });
  page.on("pageerror", (e) => w.errors.push(`uncaught: ${(e as Error).message}`));
  page.on("request", (r) => w.requests.push(r.url()));
  return w;
}

/** Every request stayed on this machine (loopback), or was an inline data: URL. */
function expectLocal(w: Watched): void {
  const away = w.requests.filter((u) => {
    if (u.startsWith("data:")) return false;
    const host = new URL(u).hostname;
    return host !== "127.0.0.1" && host !== "localhost";
  });
  expect(away, "requests that left the machine").toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const textOf = (page: Page, selector: string) =>
  page.$eval(selector, (el) => (el as HTMLElement).textContent).catch(() => "");

async function loadKeyFile(page: Page, path: string): Promise<void> {
  const input = await page.$('input[type="file"]');
  if (input === null) throw new Error("no key file input in the page");
  await input.uploadFile(path);
  await page.waitForFunction(() => document.body.textContent.includes("Signing as"), { timeout: 10_000 });
}

/** A page at the size of a laptop screen. */
async function openPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 900 });
  return page;
}

describe("the console against a 4-validator cluster", () => {
  let browser: Browser;
  let cluster: ChildProcess;
  let output = "";
  let out: string;
  let base: number;
  let chainId: string;
  const url = (i: number) => `http://127.0.0.1:${base + i}`;

  beforeAll(async () => {
    ensureBuilt();
    browser = await launchChromium();
    out = join(tempDir("console"), "cluster");
    base = 20_000 + ((await freePort()) % 20_000);
    cluster = spawn(
      process.execPath,
      [CAIRN, "cluster", "--out", out, "--base-port", String(base), "--log-level", "warn"],
      { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    cluster.stdout?.on("data", (d) => (output += d));
    cluster.stderr?.on("data", (d) => (output += d));
    await until(() => output.includes("Ctrl-C to stop every node"), 90_000, "the cluster to start");
    expect(output).toContain(`console: ${url(0)}/console/`);
    chainId = JSON.parse(readFileSync(join(out, "node0", "genesis.json"), "utf8")).chainId;
    // A value for the explorer's state lookup.
    const r = await postTxs(url(1), [kvPut(readKey(join(out, "node0")), chainId, "hello", "world")], true);
    expect(r.body.results[0].status).toBe("committed");
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (cluster?.pid !== undefined && cluster.exitCode === null) {
      process.kill(-cluster.pid, "SIGINT");
      await until(() => cluster.exitCode !== null || cluster.signalCode !== null, 30_000, "the cluster to stop").catch(
        () => process.kill(-(cluster.pid as number), "SIGKILL"),
      );
    }
  }, 60_000);

  it("draws the 22 components with live figures that change under load, follows a transaction sent from the page on every validator, and verifies in the explorer", {
    timeout: 240_000,
  }, async () => {
    const page = await openPage(browser);
    // While the journey is followed, a node answers 404 until the transaction reaches it.
    const w = watch(page, (where, text) => text.includes("404") && /\/txs\/[0-9a-f]{64}(\/trace)?$/.test(where));

    // 1. The architecture map.
    await page.goto(`${url(0)}/console/`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction((n) => document.querySelectorAll("[data-component]").length === n, {}, COMPONENTS);
    const slugs = await page.$$eval("[data-component]", (els) => els.map((e) => e.getAttribute("data-component")));
    expect(new Set(slugs).size).toBe(COMPONENTS);
    await page.waitForFunction(
      () => !document.querySelector('[data-component="record"] dd')?.textContent?.includes("—"),
    );
    const before = {
      record: await textOf(page, '[data-component="record"]'),
      tx: await textOf(page, '[data-component="transaction"]'),
    };
    const admin = readKey(join(out, "node0"));
    const load = Array.from({ length: 60 }, (_, i) => kvPut(admin, chainId, `load-${i}`, "x"));
    const loaded = await postTxs(url(2), load, true);
    expect(loaded.body.results.every((x: { status: string }) => x.status === "committed")).toBe(true);
    await page.waitForFunction(
      (b) =>
        (document.querySelector('[data-component="record"]') as HTMLElement).textContent !== b.record &&
        (document.querySelector('[data-component="transaction"]') as HTMLElement).textContent !== b.tx,
      { timeout: 15_000 },
      before,
    );
    // A component's details: what it is, where it lives, its trace events and log lines.
    await page.click('[data-component="execution-engine"]');
    await page.waitForSelector('[data-details="execution-engine"] [data-trace-events="execution-engine"] li', {
      timeout: 15_000,
    });
    expect(await textOf(page, '[data-details="execution-engine"]')).toContain("vm · src/engine.ts");
    await page.click('[data-component="consensus"]');
    await page.waitForSelector('[data-details="consensus"]');
    await shot(page, "map");

    // 2. The journey of a transaction sent from the page, signed with a key file loaded in it.
    await loadKeyFile(page, join(out, "keys", "admin.json"));
    await page.goto(`${url(0)}/console/#/journey`);
    await page.waitForSelector('[data-action="send-tx"]');
    await page.click('[data-action="send-tx"]');
    await page.waitForSelector("[data-journey] .tag.ok", { timeout: 60_000 });
    const rows = await page.$$eval("tr[data-node][data-point]", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-node"), tr.getAttribute("data-point")] as [string, string]),
    );
    const at = (node: string) => new Set(rows.filter(([n]) => n === node).map(([, p]) => p));
    const names = ["node0", "node1", "node2", "node3"];
    for (const n of names) {
      // Every validator: admitted it (from the API or by gossip), voted for its block, executed and committed it.
      for (const p of ["decoded", "verified", "admitted", "voted", "executed", "committed", "prevote", "precommit"]) {
        expect(at(n).has(p), `${n} shows ${p}: ${[...at(n)].join(", ")}`).toBe(true);
      }
    }
    // The node that served the page: its API received it, gossiped it and streamed its block.
    for (const p of ["received", "gossiped", "streamed"]) expect(at("node0").has(p), p).toBe(true);
    expect(rows.some(([, p]) => p === "proposed")).toBe(true);
    expect(rows.some(([, p]) => p === "proposal")).toBe(true);
    const hash = (await page.$eval("[data-journey]", (e) => e.getAttribute("data-journey"))) as string;
    await shot(page, "journey");

    // 3. The explorer: a certificate, an inclusion proof and a state proof, verified in the browser.
    await page.goto(`${url(0)}/console/#/explorer`);
    await page.waitForSelector("[data-open-block]");
    await page.click("[data-open-block]");
    await page.waitForSelector("[data-block] [data-verified]");
    expect(await page.$eval("[data-block] [data-verified]", (e) => e.getAttribute("data-verified"))).toBe("true");
    await page.click("#tab-transaction");
    await page.type("#explorer-tx", hash);
    await page.keyboard.press("Enter");
    await page.waitForSelector("[data-tx] [data-verified]");
    expect(await page.$eval("[data-tx] [data-verified]", (e) => e.getAttribute("data-verified"))).toBe("true");
    await shot(page, "explorer-tx");
    await page.click("#tab-state");
    await page.click('form.inline button[type="submit"]');
    await page.waitForSelector("[data-state] [data-verified]");
    expect(await page.$eval("[data-state] [data-verified]", (e) => e.getAttribute("data-verified"))).toBe("true");
    expect(await textOf(page, "[data-state]")).toContain("world");
    await page.click("#tab-blocks");
    await page.waitForSelector("[data-open-block]");
    await page.click("[data-open-block]");
    await page.waitForSelector("[data-block] [data-verified]");
    await shot(page, "explorer");

    // Bad input gets a clear message, not a blank page.
    await page.goto(`${url(0)}/console/#/journey`);
    await page.waitForSelector("#tx-hash");
    await page.type("#tx-hash", "not-a-hash");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#tx-hash-error")?.textContent?.includes("64 hexadecimal"));

    expect(w.errors).toEqual([]);
    expectLocal(w);
    await page.close();
  });

  it("kills a node from the cluster view: the consensus view shows it down within 5 s and the chain keeps committing; partitions and heals", {
    timeout: 120_000,
  }, async () => {
    const page = await openPage(browser);
    // node3 is down for part of this test: the page's requests to it fail, as they should.
    const w = watch(page, (where) => where.startsWith(url(3)));
    await page.goto(`${url(0)}/console/#/cluster`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector('tr[data-node="node3"][data-up="true"] [data-action="kill"]', { timeout: 20_000 });
    await shot(page, "cluster");
    await page.click('tr[data-node="node3"] [data-action="kill"]');
    const killedAt = Date.now();
    await page.goto(`${url(0)}/console/#/consensus`);
    await page.waitForSelector('tr[data-node="node3"][data-up="false"]', { timeout: 10_000 });
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    // Three of four validators go on: a transaction still commits, and the page sees the height move.
    const h0 = Number(
      await page.$eval('tr[data-node="node0"] td.num', (e) => (e.textContent ?? "0").replace(/,/g, "")),
    );
    const r = await postTxs(url(1), [kvPut(readKey(join(out, "node0")), chainId, "after-kill", "v")], true);
    expect(r.body.results[0].status).toBe("committed");
    await page.waitForFunction(
      (h) => Number(document.querySelector('tr[data-node="node0"] td.num')?.textContent?.replace(/,/g, "")) > h,
      { timeout: 15_000 },
      h0,
    );
    await page.waitForSelector("[data-height]");
    await shot(page, "consensus");
    // The cluster view says the process was killed; restarting it brings it back.
    await page.goto(`${url(0)}/console/#/cluster`);
    await page.waitForSelector('tr[data-node="node3"] [data-process="killed"]');
    await page.click('tr[data-node="node3"] [data-action="restart"]');
    await page.waitForSelector('tr[data-node="node3"][data-up="true"]', { timeout: 60_000 });
    await page.waitForFunction(
      () => document.querySelector('tr[data-node="node3"] td:nth-child(6)')?.textContent === "3",
      {
        timeout: 30_000,
      },
    );
    // Partition {node0, node1} | {node2, node3} from the page: each node keeps one peer; heal: three again.
    await page.click('[data-action="partition"]');
    const peersOf = (i: number) =>
      fetch(`${url(i)}/status`)
        .then((r) => r.json())
        .then((st: { network: { peers: number } }) => st.network.peers);
    await until(
      async () => (await Promise.all([0, 1, 2, 3].map(peersOf))).every((n) => n === 1),
      15_000,
      "the partition",
    );
    await page.waitForSelector('[data-action="heal"]');
    await shot(page, "cluster-partitioned");
    await page.click('[data-action="heal"]');
    await until(async () => (await Promise.all([0, 1, 2, 3].map(peersOf))).every((n) => n === 3), 20_000, "the heal");
    const r2 = await postTxs(url(3), [kvPut(readKey(join(out, "node0")), chainId, "healed", "v")], true);
    expect(r2.body.results[0].status).toBe("committed");
    expect(w.errors).toEqual([]);
    expectLocal(w);
    await page.close();
  });
});

describe("the console on a members-only chain", () => {
  let browser: Browser;
  let node: NodeProcess;
  let out: string;

  beforeAll(async () => {
    ensureBuilt();
    browser = await launchChromium();
    out = tempDir("console-members");
    const base = 20_000 + ((await freePort()) % 20_000);
    await createTestnet({ validators: 1, out, basePort: base, readAccess: "members" });
    node = await startNodeProcess(join(out, "node0"), base);
  }, 240_000);

  afterAll(async () => {
    const t0 = Date.now();
    await browser?.close();
    console.log("browser closed", Date.now() - t0);
    setTimeout(
      () =>
        console.log(
          "NODE OUTPUT",
          node
            .output()
            .split("\n")
            .filter((l) => !l.startsWith('{"level"'))
            .join("\n"),
        ),
      15_000,
    ).unref();
    await node?.stop();
    console.log("node stopped", Date.now() - t0);
  }, 60_000);

  it("asks for a key file, refuses a wrong one with a clear message, and reads everything once a member's key is loaded", {
    timeout: 120_000,
  }, async () => {
    const page = await openPage(browser);
    // Unsigned reads are refused (401) until the key is loaded: the chain's answer, not a page error.
    const w = watch(page, (_where, text) => text.includes("401"));
    await page.goto(`${node.url}/console/#/consensus`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => document.body.textContent.includes("This chain is members-only"), {
      timeout: 15_000,
    });
    // A file that is not a key: a message in the page, and the page still works.
    const bad = join(out, "not-a-key.json");
    execFileSync("sh", ["-c", `echo '{"hello": 1}' > ${bad}`]);
    const input = await page.$('input[type="file"]');
    await input?.uploadFile(bad);
    await page.waitForFunction(() =>
      document.querySelector("header .key .error")?.textContent?.includes("not-a-key.json"),
    );
    await loadKeyFile(page, join(out, "keys", "admin.json"));
    await page.waitForSelector("[data-height]", { timeout: 30_000 });
    await page.goto(`${node.url}/console/#/explorer`);
    await page.waitForSelector("[data-open-block]", { timeout: 20_000 });
    await page.click("[data-open-block]");
    await page.waitForSelector("[data-block] [data-verified]");
    expect(await page.$eval("[data-block] [data-verified]", (e) => e.getAttribute("data-verified"))).toBe("true");
    await shot(page, "members-only");
    expect(w.errors).toEqual([]);
    expectLocal(w);
    await page.close();
  });
});
