/**
 * A least-recently-used cache bounded by total weight (entry count when every weight is 1). A Map
 * keeps insertion order, so re-inserting on a hit makes the first key the least recently used.
 */
export class Lru<V> {
  readonly maxWeight: number;
  #map = new Map<string, V>();
  #weigh: (v: V) => number;
  #weight = 0;

  constructor(maxWeight: number, weigh: (v: V) => number = () => 1) {
    this.maxWeight = maxWeight;
    this.#weigh = weigh;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const w = this.#weigh(value);
    if (w > this.maxWeight) return;
    this.#map.set(key, value);
    this.#weight += w;
    while (this.#weight > this.maxWeight) {
      const oldest = this.#map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const old = this.#map.get(key);
    if (old === undefined) return;
    this.#map.delete(key);
    this.#weight -= this.#weigh(old);
  }
}
