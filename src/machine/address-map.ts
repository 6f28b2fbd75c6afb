/**
 * A small map keyed by word address, with Map's get/set/has/delete/clear.
 * Two short parallel arrays searched linearly: a run holds a handful of locks
 * and names a few dozen objects, and Map's delete (every lock release) and
 * clear (every run) allocate — they showed up as the costliest lines of a
 * schedule.
 */
export class AddressMap<V> {
  private readonly keys: number[] = [];
  private readonly values: V[] = [];
  size = 0;

  get(key: number): V | undefined {
    const a = this.keys;
    for (let i = 0; i < this.size; i++) if (a[i] === key) return this.values[i];
    return undefined;
  }

  has(key: number): boolean {
    const a = this.keys;
    for (let i = 0; i < this.size; i++) if (a[i] === key) return true;
    return false;
  }

  set(key: number, value: V): this {
    const a = this.keys;
    for (let i = 0; i < this.size; i++) {
      if (a[i] === key) {
        this.values[i] = value;
        return this;
      }
    }
    if (this.size === a.length) {
      a.push(key);
      this.values.push(value);
    } else {
      a[this.size] = key;
      this.values[this.size] = value;
    }
    this.size++;
    return this;
  }

  delete(key: number): boolean {
    const a = this.keys;
    for (let i = 0; i < this.size; i++) {
      if (a[i] === key) {
        const last = --this.size;
        a[i] = a[last]!;
        this.values[i] = this.values[last]!;
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.size = 0;
  }

  /** The key at position `i` (0 ≤ i < size), for a walk over every entry without allocating. */
  keyAt(i: number): number {
    return this.keys[i]!;
  }
}
