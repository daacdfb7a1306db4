// How the CLI prints: JSON for results (easy to pipe into jq), plain lines for people.
import type { StatusInfo } from "@cairn/client";

export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v), 2)}\n`,
  );
}

export function printLine(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** A long id (hex key, libp2p peer id) cut to its ends: "4d6e07…a107e1". */
export function shortId(id: string): string {
  return id.length <= 16 ? id : `${id.slice(0, 6)}…${id.slice(-6)}`;
}

/** A duration for people: "850ms", "12s", "3m 04s", "2h 05m", "3d 4h". */
export function formatAge(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  if (t < 1_000) return `${t}ms`;
  const s = Math.floor(t / 1_000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3_600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor(s / 3_600) % 24}h`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Left-aligned columns separated by two spaces, the header first. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** How far the latest block is behind `now`: "4s ago", or "no block yet" before the first block. */
export function blockAge(blockTime: number, now: number): string {
  return blockTime === 0 ? "no block yet" : `${formatAge(now - blockTime)} ago`;
}

/** A validator's name from its key (the short key when it is not in the set). */
function leaderName(s: StatusInfo, key: string): string {
  return s.validators.find((v) => v.publicKey === key)?.name ?? shortId(key);
}

/** `cairn status`: a node's GET /status for people. */
export function formatStatus(s: StatusInfo, url: string, now = Date.now()): string[] {
  const c = s.consensus;
  const totalPower = s.validators.reduce((sum, v) => sum + v.power, 0);
  const sync = s.sync.catchingUp ? "catching up (block sync running)" : "idle (no block sync running)";
  const lastSync =
    s.sync.lastCaughtUpAt === undefined ? "" : `; last caught up ${blockAge(s.sync.lastCaughtUpAt, now)}`;
  const peers = s.peers.length === 0 ? "" : `: ${s.peers.map(shortId).join(", ")}`;
  const lines = [
    `chain       ${s.chainId}  (genesis ${shortId(s.genesisHash)})`,
    `node        ${s.moniker}  ${shortId(s.nodeId)}  v${s.version}  ${url}`,
    `role        ${s.role}`,
    s.height === 0
      ? "height      0  (no block yet)"
      : `height      ${s.height}  (block ${shortId(s.blockHash)}, ${blockAge(s.blockTime, now)})`,
    c.raft === undefined
      ? `consensus   ${c.engine}: height ${c.height}, round ${c.round}, step ${c.step}`
      : `consensus   raft: ${c.raft.role}, term ${c.raft.term}, leader ${c.raft.leader === null ? "none known" : leaderName(s, c.raft.leader)}, commit index ${c.raft.commitIndex}, last index ${c.raft.lastIndex}`,
    `peers       ${s.network.peers} connected of ${s.network.members} members${peers}`,
    `validators  ${s.validators.length} (total power ${totalPower})`,
  ];
  const nameWidth = Math.max(0, ...s.validators.map((v) => v.name.length));
  for (const v of s.validators) {
    const self = v.publicKey === s.nodeId ? "  (this node)" : "";
    lines.push(`  ${v.name.padEnd(nameWidth)}  ${shortId(v.publicKey)}  power ${v.power}${self}`);
  }
  lines.push(
    `mempool     ${s.mempool.size} txs, ${formatBytes(s.mempool.bytes)} (max ${s.mempool.maxSize} txs)`,
    `sync        ${sync}${lastSync}`,
  );
  return lines;
}
