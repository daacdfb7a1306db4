// Bounded logs of recent events that the console polls (GET /consensus/events, GET /logs): each entry
// gets a sequence number and a wall-clock time, a reader asks for what came after the last number it
// saw, and the oldest entries are overwritten once the buffer is full, so memory stays flat.

export interface RecentEntry<T> {
  /** 1, 2, 3, ... in the order recorded; never reused while the node runs. */
  readonly seq: number;
  /** Wall-clock time, microseconds since the Unix epoch. */
  readonly timeUs: number;
  readonly data: T;
}

export class RecentBuffer<T> {
  private readonly ring: (RecentEntry<T> | undefined)[];
  private next = 1;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Array(capacity);
  }

  push(data: T, timeUs = Math.round((performance.timeOrigin + performance.now()) * 1000)): void {
    const seq = this.next++;
    this.ring[seq % this.capacity] = { seq, timeUs, data };
  }

  /** Entries with seq > `after` still held, oldest first; at most `limit`, the newest of them when more matched. */
  since(after = 0, limit = this.capacity, keep: (data: T) => boolean = () => true): RecentEntry<T>[] {
    const out: RecentEntry<T>[] = [];
    const first = Math.max(after + 1, this.next - this.capacity);
    for (let seq = first; seq < this.next; seq++) {
      const e = this.ring[seq % this.capacity];
      if (e !== undefined && e.seq === seq && keep(e.data)) out.push(e);
    }
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  /** The sequence number of the newest entry (0 before the first). */
  get last(): number {
    return this.next - 1;
  }
}
