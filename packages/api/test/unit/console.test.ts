// The console's routes (GET /console, /console/:file) and the recent-event routes it polls
// (GET /consensus/events, GET /logs): what they serve, their errors, and their read levels.
import { describe, expect, it } from "vitest";
import { routeLevel } from "../../src/access.ts";
import type { ConsoleAssets } from "../../src/index.ts";
import { start } from "./helpers.ts";

const enc = new TextEncoder();
const assets: ConsoleAssets = {
  files: new Map([
    ["index.html", { type: "text/html; charset=utf-8", body: enc.encode("<!doctype html><title>c</title>") }],
    ["console.js", { type: "text/javascript; charset=utf-8", body: enc.encode("console.log(1)") }],
  ]),
};

describe("GET /console", () => {
  it("redirects to /console/, serves the page with a strict Content-Security-Policy, and its files", async () => {
    const h = await start({ console: assets });
    const r = await fetch(`${h.url}/console`, { redirect: "manual" });
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe("/console/");
    const page = await fetch(`${h.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain("<title>c</title>");
    const js = await fetch(`${h.url}/console/console.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe("console.log(1)");
  });

  it("answers 404 NOT_FOUND for a file it does not have, and says how to build a console that is missing", async () => {
    const h = await start({ console: assets });
    const r = await fetch(`${h.url}/console/nope.js`);
    expect(r.status).toBe(404);
    expect((await r.json()).error.code).toBe("NOT_FOUND");
    const bare = await start({ console: { files: new Map(), missing: "run npm install" } });
    const m = await fetch(`${bare.url}/console/`);
    expect(m.status).toBe(404);
    expect((await m.json()).error.message).toBe("run npm install");
    const none = await start();
    expect((await fetch(`${none.url}/console/`)).status).toBe(404);
  });

  it("is public on a members-only chain; consensus events are for members, log lines for auditors", () => {
    expect(routeLevel("GET", "/console")).toBe("public");
    expect(routeLevel("GET", "/console/")).toBe("public");
    expect(routeLevel("GET", "/console/:file")).toBe("public");
    expect(routeLevel("GET", "/consensus/events")).toBe("member");
    expect(routeLevel("GET", "/logs")).toBe("auditor");
  });
});

describe("GET /consensus/events and GET /logs", () => {
  it("pass `after` and `limit` to the backend and flatten each entry", async () => {
    const h = await start();
    const seen: unknown[] = [];
    Object.assign(h.backend, {
      consensusEvents: (after: number, limit: number) => {
        seen.push([after, limit]);
        return {
          last: 7,
          events: [{ seq: 7, timeUs: 5, data: { kind: "timeout", height: 3, round: 1, step: "propose" } }],
        };
      },
      logs: (after: number, limit: number, filter: object) => {
        seen.push([after, limit, filter]);
        return { last: 2, lines: [{ seq: 2, timeUs: 9, data: { level: "warn", layer: "consensus", msg: "x" } }] };
      },
    });
    const ev = await (await fetch(`${h.url}/consensus/events?after=6&limit=10`)).json();
    expect(ev).toEqual({
      last: 7,
      events: [{ seq: 7, timeUs: 5, kind: "timeout", height: 3, round: 1, step: "propose" }],
    });
    const logs = await (await fetch(`${h.url}/logs?layer=consensus&level=warn`)).json();
    expect(logs).toEqual({ last: 2, lines: [{ seq: 2, timeUs: 9, level: "warn", layer: "consensus", msg: "x" }] });
    expect(seen).toEqual([
      [6, 10],
      [0, 1000, { layer: "consensus", level: "warn" }],
    ]);
  });

  it("answers empty lists when the backend keeps none", async () => {
    const h = await start();
    expect(await (await fetch(`${h.url}/consensus/events`)).json()).toEqual({ last: 0, events: [] });
    expect(await (await fetch(`${h.url}/logs`)).json()).toEqual({ last: 0, lines: [] });
  });

  it("refuses bad query parameters with 400 BAD_REQUEST", async () => {
    const h = await start();
    for (const q of [
      "/consensus/events?after=-1",
      "/consensus/events?limit=0",
      "/consensus/events?limit=1001",
      "/logs?after=x",
      "/logs?level=debug",
      "/logs?layer=Consensus!",
    ]) {
      const r = await fetch(`${h.url}${q}`);
      expect(r.status, q).toBe(400);
      expect((await r.json()).error.code, q).toBe("BAD_REQUEST");
    }
  });
});
