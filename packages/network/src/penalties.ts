// Misbehaving peers: each report (rejected gossip, a `penalize` call from a protocol handler) counts
// within a window; too many and the peer is disconnected and refused for a cool-off.

export interface PenaltyLimits {
  /** Reports within `penaltyWindowMs` that get a peer refused. */
  readonly maxPenalties: number;
  readonly penaltyWindowMs: number;
  /** How long a refused peer stays refused, ms. */
  readonly banMs: number;
}

export class PeerPenalties {
  private readonly reports = new Map<string, number[]>();
  private readonly bannedUntil = new Map<string, number>();
  private readonly limits: PenaltyLimits;
  private readonly log: { debug(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Disconnects a peer that was just refused (set once the libp2p node exists). */
  hangUp: (id: string) => void = () => {};
  /** Reports received, and peers refused, since start. */
  penalties = 0;
  banned = 0;

  constructor(limits: PenaltyLimits, log: PeerPenalties["log"]) {
    this.limits = limits;
    this.log = log;
  }

  /** Whether `id` is cooling off now. */
  isBanned(id: string): boolean {
    const until = this.bannedUntil.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.bannedUntil.delete(id);
    return false;
  }

  /** One report against `id`; refuses and disconnects it when the reports within the window reach the limit. */
  penalize(id: string, reason: string): void {
    this.penalties++;
    const now = Date.now();
    const recent = (this.reports.get(id) ?? []).filter((t) => now - t < this.limits.penaltyWindowMs);
    recent.push(now);
    this.reports.set(id, recent);
    this.log.debug({ peer: id, reason, reports: recent.length }, "peer penalised");
    if (recent.length < this.limits.maxPenalties || this.isBanned(id)) return;
    this.reports.delete(id);
    this.bannedUntil.set(id, now + this.limits.banMs);
    this.banned++;
    this.log.warn(
      { peer: id, reason, coolOffMs: this.limits.banMs },
      "peer misbehaved repeatedly; disconnected and refused",
    );
    this.hangUp(id);
  }

  /** Peers cooling off now. */
  coolingOff(): number {
    let n = 0;
    for (const id of [...this.bannedUntil.keys()]) if (this.isBanned(id)) n++;
    return n;
  }
}
