/**
 * Why some long-lived objects write each of their fields twice before use.
 *
 * V8 marks a field that has only ever held one value as constant in the
 * object's hidden class. Optimized code that reads the field from an object it
 * knows (a free-run CPU is one: its closures capture it, and its machine and
 * kernel hang off it) folds the value in and registers a dependency on it.
 * The first time the field takes another value, V8 throws that code away.
 *
 * In free-run that first time is the end of the first iteration: counters are
 * bumped, and contexts and threads are recycled for the next one. By then the
 * scenario's critical section has just been compiled. Throwing it away costs a
 * recompilation, and until it lands the CPU runs unoptimized: 100–250 ms of a
 * one-second run, with every CPU of the rig waiting for the slowest.
 *
 * Writing another value of the same kind and then the old one, before any
 * code is optimized, makes the field ordinary from the start. A field's
 * constness belongs to the hidden class, which every object built by the same
 * constructor shares, so a throwaway object primes the class for all of them.
 */

export interface MarkOptions {
  /** The fields to mark; all own fields by default. */
  keys?: readonly string[];
  /**
   * Object fields too, through null: the field type widens (a map check on
   * each load). Without it, object fields are the caller's to give a second
   * object of the same class, which keeps the field type.
   */
  objects?: boolean;
}

/**
 * Makes fields of `o` non-constant: it writes another value of the same kind,
 * then puts the old one back. Function fields keep their constant, which lets
 * V8 inline the call; null fields have no other value to take.
 */
export function markFieldsMutable(o: object, options: MarkOptions = {}): void {
  const r = o as Record<string, unknown>;
  for (const key of options.keys ?? Object.keys(r)) {
    const v = r[key];
    switch (typeof v) {
      case 'number':
        // Same representation: a small integer stays one, a double stays a double.
        r[key] = Number.isInteger(v) ? (v === 0 ? 1 : 0) : v + 0.5;
        break;
      case 'boolean':
        r[key] = !v;
        break;
      case 'string':
        r[key] = `${v}\u0000`;
        break;
      case 'object':
        if (v === null || options.objects !== true) continue;
        r[key] = null;
        break;
      default:
        continue;
    }
    r[key] = v;
  }
}
