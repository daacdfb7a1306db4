/**
 * A cache bounded by total weight, with two generations instead of a strict LRU list: entries go
 * into the young map, and when it is full the old map is dropped whole and the young one becomes old.
 * A hit in the old map moves the entry back to the young one. Every operation is O(1) and nothing
 * is deleted one by one from a large Map (which makes V8 rehash it).
 */
export class GenerationalCache<V> {
  readonly maxWeight: number;
  #young = new Map<string, V>();
  #old = new Map<string, V>();
  #youngWeight = 0;
  #weigh: (v: V) => number;

  constructor(maxWeight: number, weigh: (v: V) => number = () => 1) {
    this.maxWeight = maxWeight;
    this.#weigh = weigh;
  }

  get(key: string): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const o = this.#old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: string, value: V): void {
    const w = this.#weigh(value);
    if (w * 2 > this.maxWeight) {
      this.delete(key);
      return;
    }
    this.#old.delete(key);
    this.#young.set(key, value);
    this.#youngWeight += w;
    if (this.#youngWeight * 2 > this.maxWeight) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#youngWeight = 0;
    }
  }

  delete(key: string): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }
}
