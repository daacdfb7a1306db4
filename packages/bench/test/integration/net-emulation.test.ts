// The emulated network (src/network/, src/netns.ts) measured with real TCP between real network
// namespaces: a request/response echo between nodes shows the configured one-way latencies (per
// pair, from a region matrix), jitter that never reorders a stream, the bandwidth limit, and loss
// that TCP hides behind retransmissions; traffic that is not peer-to-peer is not delayed.
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { createNetLab, emulationUnavailable, type NetLab } from "../../src/netns.ts";
import { latencyMatrix, type NetworkProfile } from "../../src/network/profile.ts";

const why = emulationUnavailable();
const P2P = [26800, 26801, 26802];
const OTHER = 9000;

let lab: NetLab | undefined;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  lab?.destroy();
  lab = undefined;
});

/** Runs `script` (ESM JavaScript) with Node in namespace `ns`; resolves with its stdout once it prints `marker`. */
function inNs(ns: string, script: string, marker: string): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${marker}" in 20 s: ${out}`)), 20_000);
    const check = () => {
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve({ child, out: () => out });
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", () => {
      clearTimeout(timer);
      if (!out.includes(marker)) reject(new Error(`exited: ${out}`));
    });
  });
}

/** An echo server on each port given. */
const echo = (ports: number[]) => `
import { createServer } from "node:net";
for (const port of ${JSON.stringify(ports)}) createServer((s) => s.pipe(s)).listen(port, "0.0.0.0");
setTimeout(() => console.log("listening"), 200);
`;

/**
 * From the calling namespace: connects to host:port, sends 20 one-byte pings one after the other
 * and prints the median round trip (ms); then sends `bulk` bytes and prints the ms until they are
 * echoed back, and whether the bytes came back in order.
 */
const client = (host: string, port: number, bulk: number) => `
import { connect } from "node:net";
const s = connect({ host: ${JSON.stringify(host)}, port: ${port}, noDelay: true });
await new Promise((r) => s.once("connect", r));
const rtts = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  s.write(Buffer.from([i]));
  await new Promise((r) => s.once("data", r));
  rtts.push(performance.now() - t);
}
rtts.sort((a, b) => a - b);
const data = Buffer.alloc(${bulk});
for (let i = 0; i < data.length; i++) data[i] = i % 251;
let got = [];
let n = 0;
const t = performance.now();
s.write(data);
await new Promise((r) => s.on("data", (d) => { got.push(d); n += d.length; if (n >= data.length) r(); }));
const ordered = Buffer.concat(got).equals(data);
console.log(JSON.stringify({ rtt: rtts[10], bulkMs: performance.now() - t, ordered }));
s.destroy();
`;

async function measure(
  from: number,
  to: number,
  port: number,
  bulk = 1,
): Promise<{ rtt: number; bulkMs: number; ordered: boolean }> {
  const l = lab as NetLab;
  const { out } = await inNs(l.nodes[from]?.netns as string, client(l.nodes[to]?.ip as string, port, bulk), "rtt");
  return JSON.parse(out().trim().split("\n").pop() as string);
}

describe.skipIf(why !== undefined)("emulated network between namespaces", () => {
  it("delays each pair by its matrix latency, both ways, and leaves other ports alone", {
    timeout: 60_000,
  }, async () => {
    lab = createNetLab(3, `e${process.pid % 10_000}`);
    const { matrix } = latencyMatrix({ regions: { eu: [0, 1], us: [2] }, latency: { "eu-us": 60 }, within: 10 }, 3);
    const profile: NetworkProfile = { latencyMs: 0, jitterMs: 0, lossPercent: 0, matrix };
    await lab.emulate(profile, P2P);
    for (let i = 0; i < 3; i++) await inNs(lab.nodes[i]?.netns as string, echo([P2P[i] as number, OTHER]), "listening");
    const near = await measure(0, 1, P2P[1] as number);
    const far = await measure(0, 2, P2P[2] as number);
    const back = await measure(2, 0, P2P[0] as number);
    const other = await measure(0, 2, OTHER);
    // A round trip is twice the one-way delay (plus the relay's and the machine's own time, which
    // a busy machine stretches: only the order of magnitude is checked above the floor).
    expect(near.rtt).toBeGreaterThanOrEqual(19);
    expect(far.rtt).toBeGreaterThanOrEqual(119);
    expect(back.rtt).toBeGreaterThanOrEqual(119);
    expect(far.rtt - near.rtt).toBeGreaterThan(50);
    expect(other.rtt).toBeLessThan(19);
  });

  it("jitter never reorders a stream; bandwidth paces bulk data; loss is hidden by TCP", {
    timeout: 60_000,
  }, async () => {
    lab = createNetLab(2, `f${process.pid % 10_000}`);
    await lab.emulate({ latencyMs: 20, jitterMs: 10, lossPercent: 2, bandwidthMbit: 8 }, P2P.slice(0, 2));
    for (let i = 0; i < 2; i++) await inNs(lab.nodes[i]?.netns as string, echo([P2P[i] as number]), "listening");
    // 500 KB out and back at 8 Mbit/s (1 MB/s) each way: at least 0.5 s on the wire.
    const r = await measure(0, 1, P2P[1] as number, 500_000);
    expect(r.ordered).toBe(true);
    expect(r.rtt).toBeGreaterThanOrEqual(20);
    expect(r.bulkMs).toBeGreaterThanOrEqual(500);
    expect(r.bulkMs).toBeLessThan(5_000);
  });
});
