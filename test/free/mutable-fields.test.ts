import { describe, expect, it } from 'vitest';
import { setUpRun } from '../../src/engine/instantiate.ts';
import { Kernel } from '../../src/kernel/kernel.ts';
import { ExecContext } from '../../src/machine/cpu.ts';
import { Machine } from '../../src/machine/machine.ts';
import { markFieldsMutable } from '../../src/engine/free/mutable-fields.ts';
import { MACHINE_PER_RUN_FIELDS } from '../../src/engine/free/priming.ts';
import { validateRig } from '../../src/machine/rig.ts';
import { defineScenario } from '../../src/scenario/define.ts';

class Sample {
  count = 3;
  zero = 0;
  ratio = 0.25;
  on = true;
  label = 'cpu0';
  other: { x: number } | null = { x: 1 };
  none: object | null = null;
  fn = (): number => 7;
}

/** A Sample behind a proxy that records every write: the field and the value, in order. */
function recorded(): { s: Sample; spy: Sample; writes: [string, unknown][] } {
  const s = new Sample();
  const writes: [string, unknown][] = [];
  const spy = new Proxy(s, {
    set(target, key, value) {
      writes.push([String(key), value]);
      return Reflect.set(target, key, value);
    },
  });
  return { s, spy, writes };
}

describe('markFieldsMutable', () => {
  it('leaves every field with the value it had', () => {
    const s = new Sample();
    const other = s.other;
    const fn = s.fn;
    markFieldsMutable(s, { objects: true });
    expect(s.count).toBe(3);
    expect(s.zero).toBe(0);
    expect(s.ratio).toBe(0.25);
    expect(s.on).toBe(true);
    expect(s.label).toBe('cpu0');
    expect(s.other).toBe(other);
    expect(s.none).toBeNull();
    expect(s.fn).toBe(fn);
    expect(Object.keys(s)).toEqual(Object.keys(new Sample()));
  });

  it('touches only the fields it is given, and adds none', () => {
    const { s, spy, writes } = recorded();
    markFieldsMutable(spy, { keys: ['count', 'label', 'missing'] });
    // Two writes each (another value, then the old one); an absent field is neither read into being nor written.
    expect(writes.map(([key]) => key)).toEqual(['count', 'count', 'label', 'label']);
    expect('missing' in s).toBe(false);
  });

  it('writes another value of the same kind before restoring it', () => {
    const { spy, writes } = recorded();
    const seen: Record<string, unknown[]> = {};
    markFieldsMutable(spy, { objects: true });
    for (const [key, value] of writes) (seen[key] ??= []).push(value);
    expect(seen['count']).toEqual([0, 3]);
    expect(seen['zero']).toEqual([1, 0]);
    expect(seen['ratio']).toEqual([0.75, 0.25]);
    expect(seen['on']).toEqual([false, true]);
    expect(seen['label']?.[0]).not.toBe('cpu0');
    expect(seen['other']?.[0]).toBeNull();
    // Functions keep their constant; null has no other value to take.
    expect(seen['fn']).toBeUndefined();
    expect(seen['none']).toBeUndefined();
  });

  it('leaves object fields alone unless asked', () => {
    const { spy, writes } = recorded();
    markFieldsMutable(spy);
    expect(writes.map(([key]) => key)).not.toContain('other');
    expect(writes.map(([key]) => key)).toContain('count');
  });
});

describe('MACHINE_PER_RUN_FIELDS', () => {
  it('names fields a machine has once setup has run (a renamed field would be primed in vain)', () => {
    const r = validateRig({ id: 'prime', title: 'prime', cores: 2, hal: 'mp', build: 'free' });
    if (!r.ok) throw new Error('rig');
    const m = new Machine(r.rig);
    const k = new Kernel(m);
    const setupCtx = new ExecContext(-1, 'thread', 'setup', (function* () {})(), m.cpus[0]!, null);
    setUpRun(m, k, defineScenario({ id: 'x/prime', title: 'prime', description: 'no actors', family: 'x', setup: () => ({}), actors: { a: { run: function* () {} } }, expect: 'pass' }), setupCtx);
    for (const key of MACHINE_PER_RUN_FIELDS) expect(Object.keys(m), key).toContain(key);
  });
});
