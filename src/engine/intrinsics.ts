/**
 * Guards the JavaScript built-ins the engine itself relies on. Scenario code
 * shares the realm with the engine (a worker or the CLI's thread), so
 * `Array.prototype.push = …` or `Object.prototype.outcome = …` in a scenario
 * would silently change the engine's own results. An exploration or replay
 * takes a snapshot of the built-ins' own properties before it starts and
 * compares at its end (once per exploration, never per schedule or step);
 * a change ends the run as outcome `error` naming it, and the built-ins are
 * put back so the worker's next run starts clean.
 */

type Snapshot = Map<PropertyKey, PropertyDescriptor>;

// Captured before any scenario runs: the guard must not use what it guards.
const { ownKeys, getOwnPropertyDescriptor, deleteProperty, defineProperty } = Reflect;

const typedArrayPrototype = Object.getPrototypeOf(Int32Array.prototype) as object;

/** The built-ins watched, by the name a message gives them. */
const WATCHED: readonly (readonly [string, object])[] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Boolean.prototype', Boolean.prototype],
  ['Symbol.prototype', Symbol.prototype],
  ['Error.prototype', Error.prototype],
  ['RegExp.prototype', RegExp.prototype],
  ['Map.prototype', Map.prototype],
  ['Set.prototype', Set.prototype],
  ['Promise.prototype', Promise.prototype],
  ['TypedArray.prototype', typedArrayPrototype],
  ['Int32Array.prototype', Int32Array.prototype],
  ['Object', Object],
  ['Array', Array],
  ['JSON', JSON],
  ['Math', Math],
  ['Atomics', Atomics],
  ['Reflect', Reflect],
];

function take(o: object): Snapshot {
  const m: Snapshot = new Map();
  const keys = ownKeys(o);
  for (let i = 0; i < keys.length; i++) m.set(keys[i]!, getOwnPropertyDescriptor(o, keys[i]!)!);
  return m;
}

function same(a: PropertyDescriptor, b: PropertyDescriptor): boolean {
  return a.value === b.value && a.get === b.get && a.set === b.set && a.writable === b.writable &&
    a.enumerable === b.enumerable && a.configurable === b.configurable;
}

const keyName = (k: PropertyKey): string => (typeof k === 'symbol' ? String(k) : `'${String(k).slice(0, 40)}'`);

export class IntrinsicsGuard {
  private readonly before: Snapshot[] = [];

  constructor() {
    for (let i = 0; i < WATCHED.length; i++) this.before.push(take(WATCHED[i]![1]));
  }

  /** What changed since the snapshot, as "Array.prototype: 'push' replaced"; empty when nothing did. */
  changes(): string[] {
    const out: string[] = [];
    for (let i = 0; i < WATCHED.length; i++) {
      const [name, o] = WATCHED[i]!;
      const before = this.before[i]!;
      const parts: string[] = [];
      const keys = ownKeys(o);
      for (let j = 0; j < keys.length; j++) {
        const k = keys[j]!;
        const was = before.get(k);
        if (was === undefined) parts.push(`${keyName(k)} added`);
        else if (!same(was, getOwnPropertyDescriptor(o, k)!)) parts.push(`${keyName(k)} replaced`);
      }
      for (const k of before.keys()) {
        if (getOwnPropertyDescriptor(o, k) === undefined) parts.push(`${keyName(k)} deleted`);
      }
      if (parts.length > 0) out.push(`${name}: ${parts.slice(0, 3).join(', ')}${parts.length > 3 ? `, and ${parts.length - 3} more` : ''}`);
    }
    return out;
  }

  /** Puts the snapshot back (what a scenario made non-configurable cannot be, and is left). */
  restore(): void {
    for (let i = 0; i < WATCHED.length; i++) {
      const o = WATCHED[i]![1];
      const before = this.before[i]!;
      const keys = ownKeys(o);
      for (let j = 0; j < keys.length; j++) if (!before.has(keys[j]!)) deleteProperty(o, keys[j]!);
      for (const [k, d] of before) {
        const now = getOwnPropertyDescriptor(o, k);
        if (now === undefined || !same(now, d)) defineProperty(o, k, d);
      }
    }
  }
}

/** The message a run ends with when its scenario changed built-ins. */
export function pollutionMessage(changes: string[]): string {
  return `the scenario changed JavaScript built-ins the box itself uses (${changes.join('; ')}): ` +
    "results computed with them cannot be trusted. A scenario must not modify Object.prototype, Array.prototype or other built-ins";
}
