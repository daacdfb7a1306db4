// The local cluster's control endpoint (control.ts) over real HTTP on loopback, in front of a
// recording stand-in for the supervisor: its routes, its errors, and who may call it from a browser.
import { afterEach, describe, expect, it } from "vitest";
import { type ClusterControl, type ControlledNode, startControlServer } from "../../src/index.ts";

function recorder() {
  const calls: string[] = [];
  let partition: number[][] = [];
  const nodes: ControlledNode[] = [0, 1, 2, 3].map((i) => ({
    name: `node${i}`,
    url: `http://127.0.0.1:${26600 + i}`,
    pid: 100 + i,
    state: "running",
  }));
  const control: ClusterControl = {
    teach: false,
    nodes: () => nodes,
    partition: () => partition,
    kill: (i) => void calls.push(`kill ${i}`),
    pause: (i) => void calls.push(`pause ${i}`),
    resume: (i) => void calls.push(`resume ${i}`),
    restart: async (i) => void calls.push(`restart ${i}`),
    setPartition: (g) => {
      partition = g.map((x) => [...x]);
      calls.push(`partition ${JSON.stringify(g)}`);
    },
    heal: () => {
      partition = [];
      calls.push("heal");
    },
    pauseChain: () => void calls.push("pause chain"),
    resumeChain: () => void calls.push("resume chain"),
    stepChain: async () => {
      calls.push("step");
      return { height: 9 };
    },
  };
  return { control, calls };
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve() {
  const r = recorder();
  const s = await startControlServer(r.control, 0);
  servers.push(s);
  const post = (path: string, body: unknown = {}, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  return { ...r, url: s.url, post };
}

describe("the cluster control endpoint", () => {
  it("listens on loopback, lists the nodes and carries out each command", async () => {
    const c = await serve();
    expect(new URL(c.url).hostname).toBe("127.0.0.1");
    const list = await (await fetch(`${c.url}/nodes`)).json();
    expect(list.nodes.map((n: ControlledNode) => n.name)).toEqual(["node0", "node1", "node2", "node3"]);
    expect(list.partition).toEqual([]);
    for (const a of ["kill", "pause", "resume", "restart"]) expect((await c.post(`/nodes/3/${a}`)).status).toBe(200);
    expect(
      (
        await c.post("/partition", {
          groups: [
            [0, 1],
            [2, 3],
          ],
        })
      ).status,
    ).toBe(200);
    expect((await (await fetch(`${c.url}/nodes`)).json()).partition).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect((await c.post("/heal")).status).toBe(200);
    expect((await c.post("/chain/pause")).status).toBe(200);
    expect(await (await c.post("/chain/step")).json()).toEqual({ ok: true, height: 9 });
    expect((await c.post("/chain/resume")).status).toBe(200);
    expect(c.calls).toEqual([
      "kill 3",
      "pause 3",
      "resume 3",
      "restart 3",
      "partition [[0,1],[2,3]]",
      "heal",
      "pause chain",
      "step",
      "resume chain",
    ]);
  });

  it("answers bad requests with a code and a message, and carries out nothing", async () => {
    const c = await serve();
    const cases: [Response, number, string][] = [
      [await c.post("/nodes/7/kill"), 404, "UNKNOWN_NODE"],
      [await c.post("/nodes/x/kill"), 404, "UNKNOWN_NODE"],
      [await c.post("/partition", { groups: [[0, 1]] }), 400, "BAD_PARTITION"],
      [
        await c.post("/partition", {
          groups: [
            [0, 1],
            [1, 2],
          ],
        }),
        400,
        "BAD_PARTITION",
      ],
      [await c.post("/partition", { groups: [[0], [9]] }), 400, "BAD_PARTITION"],
      [await fetch(`${c.url}/heal`, { method: "POST", body: "x" }), 415, "BAD_CONTENT_TYPE"],
      [
        await fetch(`${c.url}/heal`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" }),
        400,
        "BAD_JSON",
      ],
      [await c.post("/nope"), 404, "NOT_FOUND"],
    ];
    for (const [r, status, code] of cases) {
      expect(r.status).toBe(status);
      expect((await r.json()).error.code).toBe(code);
    }
    expect(c.calls).toEqual([]);
  });

  it("lets a browser call it only from a page one of the cluster's nodes served", async () => {
    const c = await serve();
    const mine = await fetch(`${c.url}/nodes`, { headers: { origin: "http://127.0.0.1:26602" } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:26602");
    const local = await fetch(`${c.url}/nodes`, { headers: { origin: "http://localhost:26600" } });
    expect(local.status).toBe(200);
    const other = await c.post("/nodes/0/kill", {}, { origin: "https://example.org" });
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect((await other.json()).error.code).toBe("FORBIDDEN_ORIGIN");
    const otherPort = await c.post("/nodes/0/kill", {}, { origin: "http://127.0.0.1:9999" });
    expect(otherPort.status).toBe(403);
    expect(c.calls).toEqual([]);
  });
});
