// The HTML report in a real headless Chromium: opened from a file:// URL, with its charts drawn by
// its own inline script, no JavaScript error, no request beyond the file itself, and every table.
//
// The browser is Debian's `chromium` driven by puppeteer-core (which downloads no browser). When no
// Chromium is found and we run as root, the test installs it with apt-get (once per machine: a
// minute or two); when it still has none, it FAILS with the reason: it never skips.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, launchChromium } from "@cairn/test-utils/browser";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART_KINDS, renderHtml } from "../../src/render/index.ts";
import type { BenchReport } from "../../src/report.ts";
import { LOOPBACK_MODEL, runSimulation } from "../../src/simulation/plan.ts";
import { emptyishReport, fixture, HOSTILE, hostileFixture } from "../unit/fixture.ts";

interface PageResult {
  readonly errors: string[];
  readonly requests: string[];
  readonly drawn: string | undefined;
  readonly failed: string | undefined;
  readonly charts: {
    kind: string;
    round?: string;
    sweep?: string;
    paths: number;
    rects: number;
    circles: number;
    lines: number;
    series: number;
    bars: number;
    faultMarkers: number;
    nodata: string[];
    width: number;
  }[];
  readonly tables: Record<string, number>;
  readonly pwned: unknown;
  readonly title: string;
  readonly bodyText: string;
}

let browser: Browser;
let dir: string;
let executable: string;

async function open(report: BenchReport, name: string): Promise<PageResult> {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, renderHtml(report));
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${(e as Error).message ?? String(e)}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("request", (r) => {
    if (!r.url().startsWith("file://")) requests.push(r.url());
  });
  try {
    await page.setViewport({ width: 1300, height: 900 });
    await page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: 30_000 });
    await page.waitForSelector("body[data-charts-drawn]", { timeout: 10_000 });
    const result = await page.evaluate(() => {
      const count = (svg: Element, sel: string) => svg.querySelectorAll(sel).length;
      const charts = [...document.querySelectorAll<SVGSVGElement>("svg[data-chart]")].map((svg) => ({
        kind: svg.dataset.chart ?? "",
        round: svg.dataset.round,
        sweep: svg.dataset.sweep,
        paths: count(svg, "path"),
        rects: count(svg, "rect:not(.bg)"),
        circles: count(svg, "circle"),
        lines: count(svg, "line"),
        series: count(svg, "path.series"),
        bars: count(svg, "rect.bar"),
        faultMarkers: count(svg, ".fault-marker"),
        nodata: [...svg.querySelectorAll("text.nodata")].map((t) => t.textContent ?? ""),
        width: svg.getBoundingClientRect().width,
      }));
      const tables: Record<string, number> = {};
      for (const t of document.querySelectorAll<HTMLTableElement>("table[data-table]")) {
        tables[t.dataset.table ?? ""] = t.tBodies[0]?.rows.length ?? 0;
      }
      return {
        drawn: document.body.dataset.chartsDrawn,
        failed: document.body.dataset.chartsFailed,
        charts,
        tables,
        pwned: (window as unknown as { __pwned?: unknown }).__pwned,
        title: document.title,
        // The text as rendered: the embedded JSON and the script are not part of it.
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is tested
        bodyText: document.body.innerText,
      };
    });
    return { errors, requests, ...result };
  } finally {
    await page.close();
  }
}

beforeAll(async () => {
  executable = chromium();
  dir = mkdtempSync(join(tmpdir(), "cairn-report-html-"));
  browser = await launchChromium();
}, 220_000);

afterAll(async () => {
  await browser?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("the HTML report in headless Chromium", () => {
  it("draws every chart of the fixture with no error and no network request", async () => {
    // The fixture with a small simulation (both engines, two models, 4 and 7 validators).
    const base = fixture();
    const simulation = runSimulation(
      { sizes: [4, 7], engines: ["tendermint", "raft"], models: [LOOPBACK_MODEL, { kind: "uniform", latencyMs: 50 }] },
      base.rounds,
    );
    const report: BenchReport = { ...base, simulation };
    const page = await open(report, "fixture");
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([]);
    expect(page.failed).toBe("0");
    const n = report.rounds.length;
    const kinds = (k: string) => page.charts.filter((c) => c.kind === k);
    const searched = report.rounds.filter((r) => r.saturation !== undefined).length;
    expect(searched).toBe(2);
    expect(Number(page.drawn)).toBe(3 * n + searched + 2 * report.sweeps.length + 3);
    expect(new Set(page.charts.map((c) => c.kind))).toEqual(new Set(CHART_KINDS));

    for (const c of page.charts) {
      expect(c.nodata, `${c.kind} ${c.round ?? c.sweep}`).toEqual([]);
      expect(c.paths + c.rects + c.circles, `${c.kind} ${c.round ?? c.sweep} drew nothing`).toBeGreaterThan(0);
      expect(c.width).toBeGreaterThan(300); // laid out, not collapsed
    }
    // Throughput over time: sent and committed per round (and reads where measured), faults marked.
    expect(kinds("throughput")).toHaveLength(n);
    for (const [i, round] of report.rounds.entries()) {
      const c = kinds("throughput").find((x) => x.round === String(i));
      expect(c?.series).toBe(round.reads === undefined ? 2 : 3);
      expect(c?.faultMarkers).toBe(round.faults.length);
    }
    // Latency histograms: one bar per bucket.
    for (const [i, round] of report.rounds.entries()) {
      const c = kinds("latency").find((x) => x.round === String(i));
      expect(c?.bars).toBe(round.latencyAll.histogram?.bounds.length);
    }
    // Resources: four panels of one bar per node.
    for (const [i, round] of report.rounds.entries()) {
      expect(kinds("resources").find((x) => x.round === String(i))?.bars).toBe(4 * round.nodes.length);
    }
    // Saturation search: a dot per step of the closed-loop rounds.
    for (const [i, round] of report.rounds.entries()) {
      const c = kinds("saturation").find((x) => x.round === String(i));
      expect(c?.circles).toBe(round.saturation === undefined ? undefined : round.saturation.steps.length + 1);
    }
    // Sweep curves: a dot per point; latency has three lines (average, p95, p99).
    const points = report.sweeps[0]?.points.length ?? 0;
    expect(kinds("sweep-throughput")[0]?.circles).toBe(points);
    expect(kinds("sweep-latency")[0]?.circles).toBe(3 * points);
    expect(kinds("sweep-latency")[0]?.series).toBe(3);
    // The simulation: a line per engine and model, a dot per simulated point, on each of its three charts.
    for (const k of ["simulation-latency", "simulation-messages", "simulation-bytes"]) {
      expect(kinds(k)[0]?.circles, k).toBe(simulation.points.length);
      expect(kinds(k)[0]?.series, k).toBe(4);
    }
    expect(page.bodyText).toContain("Consensus at scale (SIMULATION, not measured)");
    expect(page.bodyText).toContain("SIMULATION: commit latency");

    // The same tables as the Markdown.
    expect(page.tables).toMatchObject({
      summary: n,
      rounds: n,
      workloads: new Set(report.rounds.map((r) => r.workload)).size,
      saturation: report.rounds.reduce((s, r) => s + (r.saturation?.steps.length ?? 0), 0),
      latency: n,
      reads: 1,
      ...Object.fromEntries(report.rounds.map((r, i) => [`resources-${i}`, r.nodes.length])),
      generator: n,
      faults: 1,
      "sweep-0": points,
      disclosure: 16,
      simulation: simulation.points.length,
    });
    expect(page.tables.criteria).toBeGreaterThan(25);
    expect(page.bodyText).toContain("Send Rate (TPS)");
    expect(page.bodyText).toContain("1,128.4");
    expect(page.title).toBe(report.title);
  }, 60_000);

  it("shows hostile text as text: nothing injected, nothing run", async () => {
    const page = await open(hostileFixture(), "hostile");
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([]); // the <img src=x> was not created
    expect(page.pwned).toBeUndefined();
    expect(page.failed).toBe("0");
    expect(page.title).toBe(`Title ${HOSTILE}`.replace(/\s+/g, " "));
    expect(page.bodyText).toContain("Round a|b <script>window.__pwned=1</script></script><img src=x");
  }, 60_000);

  it("draws something sensible for empty series", async () => {
    const page = await open(emptyishReport(), "empty");
    expect(page.errors).toEqual([]);
    expect(page.failed).toBe("0");
    const empty = page.charts.filter((c) => c.round === "0" || c.sweep === "0");
    expect(empty.map((c) => c.kind).sort()).toEqual(
      ["latency", "resources", "sweep-latency", "sweep-throughput", "throughput"].sort(),
    );
    for (const c of empty) {
      expect(c.nodata.length, c.kind).toBe(1);
      expect(c.rects, c.kind).toBeGreaterThan(0); // the dashed empty plot area
    }
    // A latency without histogram: the percentiles as a strip of dots (min, p50, p95, p99, max).
    const strip = page.charts.find((c) => c.kind === "latency" && c.round === "1");
    expect(strip?.circles).toBe(5);
    expect(page.tables.reads).toBeUndefined();
  }, 60_000);
});

describe("the browser the test used", () => {
  it("is a real Chromium", () => {
    const version = execFileSync(executable, ["--version"], { encoding: "utf8", timeout: 20_000 });
    expect(version).toMatch(/Chromium|Chrome/);
  });
});
