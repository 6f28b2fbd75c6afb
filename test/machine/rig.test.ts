import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { PRESET_RIGS } from '../../src/machine/presets.ts';
import {
  activeCpuCount, logicalCpuCount, parseRig, RigError, rigFingerprint, validateRig, type FieldError,
} from '../../src/machine/rig.ts';
import { rig } from '../helpers.ts';

const GOOD = { id: 'box', title: 'A box', cores: 2, threadsPerCore: 1, hal: 'mp', build: 'checked' };

function errorsOf(doc: unknown): FieldError[] {
  const r = validateRig(doc);
  if (r.ok) throw new Error(`expected ${JSON.stringify(doc)} to be rejected`);
  return r.errors;
}

describe('rig validation', () => {
  it('accepts a minimal rig and fills in defaults', () => {
    const r = validateRig(GOOD);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rig.upHalOnAllCpus).toBe(false);
    expect(r.rig.quantum).toBeGreaterThan(0);
    expect(r.rig.watchdog.maxSteps).toBeGreaterThan(0);
    expect(r.rig.memoryWords).toBeGreaterThanOrEqual(1024);
  });

  const bad: [string, Record<string, unknown>][] = [
    ['id', { id: 'Bad Id!' }],
    ['id', { id: 42 }],
    ['title', { title: '' }],
    ['title', { title: 7 }],
    ['description', { description: 3 }],
    ['cores', { cores: 0 }],
    ['cores', { cores: 1.5 }],
    ['cores', { cores: '2' }],
    ['cores', { cores: 40, threadsPerCore: 2 }],
    ['threadsPerCore', { threadsPerCore: 3 }],
    ['hal', { hal: 'smp' }],
    ['build', { build: 'debug' }],
    ['upHalOnAllCpus', { upHalOnAllCpus: 'yes' }],
    ['quantum', { quantum: 0 }],
    ['memoryWords', { memoryWords: 10 }],
    ['watchdog', { watchdog: 5 }],
    ['watchdog.maxSteps', { watchdog: { maxSteps: 1 } }],
    ['watchdog.dpcTimeoutSteps', { watchdog: { dpcTimeoutSteps: -1 } }],
    ['watchdog.bogus', { watchdog: { bogus: 1 } }],
    ['cost', { cost: [] }],
    ['cost.pause', { cost: { pause: -3 } }],
    ['cost.warp', { cost: { warp: 1 } }],
  ];
  for (const [field, patch] of bad) {
    it(`names the field '${field}' for ${JSON.stringify(patch)}`, () => {
      const errors = errorsOf({ ...GOOD, ...patch });
      expect(errors.map((e) => e.field)).toContain(field);
      const e = errors.find((x) => x.field === field)!;
      expect(e.message.length).toBeGreaterThan(3);
    });
  }

  it('rejects a missing required field by name', () => {
    for (const f of ['id', 'title', 'cores', 'hal', 'build']) {
      const doc: Record<string, unknown> = { ...GOOD };
      delete doc[f];
      expect(errorsOf(doc).map((e) => e.field)).toContain(f);
    }
  });

  it('rejects unknown fields (a typo never becomes a different machine)', () => {
    const errors = errorsOf({ ...GOOD, core: 4 });
    expect(errors).toEqual([{ field: 'core', message: expect.stringContaining('not a rig field') }]);
  });

  it('reports every error at once', () => {
    const errors = errorsOf({ ...GOOD, cores: 0, hal: 'x', build: 'y' });
    expect(errors.map((e) => e.field).sort()).toEqual(['build', 'cores', 'hal']);
  });

  it('rejects non-objects', () => {
    expect(errorsOf([]).length).toBe(1);
    expect(errorsOf(null).length).toBe(1);
    expect(errorsOf('rig').length).toBe(1);
  });

  it('parseRig throws a RigError naming the source and the field', () => {
    expect(() => parseRig(JSON.stringify({ ...GOOD, threadsPerCore: 4 }), 'my.json')).toThrow(RigError);
    try {
      parseRig(JSON.stringify({ ...GOOD, threadsPerCore: 4 }), 'my.json');
    } catch (e) {
      expect((e as Error).message).toMatch(/^my\.json: threadsPerCore: /);
    }
    expect(() => parseRig('{ not json', 'broken.json')).toThrow(/broken\.json: \(json\)/);
  });
});

describe('rig presets', () => {
  const dir = join(import.meta.dirname, '../../rigs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('every rigs/*.json file is valid and its id matches its file name', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const r = parseRig(readFileSync(join(dir, f), 'utf8'), f);
      expect(r.id).toBe(f.slice(0, -5));
    }
  });

  it('the bundled presets are exactly the files in rigs/', () => {
    expect(PRESET_RIGS.map((r) => r.id).sort()).toEqual(files.map((f) => f.slice(0, -5)).sort());
  });

  it('presets describe the machines their titles promise', () => {
    const byId = new Map(PRESET_RIGS.map((r) => [r.id, r]));
    expect(activeCpuCount(byId.get('uniprocessor')!)).toBe(1);
    expect(activeCpuCount(byId.get('p4-ht')!)).toBe(2);
    expect(byId.get('p4-ht')!.threadsPerCore).toBe(2);
    expect(activeCpuCount(byId.get('dual-opteron-240')!)).toBe(2);
    expect(byId.get('quad-free')!.build).toBe('free');
    expect(activeCpuCount(byId.get('workstation-16')!)).toBe(16);
  });
});

describe('CPU counts', () => {
  it('a UP HAL on a multi-processor rig runs one CPU', () => {
    const r = rig({ cores: 4, threadsPerCore: 2, hal: 'up' });
    expect(logicalCpuCount(r)).toBe(8);
    expect(activeCpuCount(r)).toBe(1);
    const m = new Machine(r);
    expect(m.cpus.length).toBe(8);
    expect(m.online.map((c) => c.index)).toEqual([0]);
    expect(m.mpHal).toBe(false);
  });

  it('...unless the rig asks for the unsafe mix', () => {
    const r = rig({ cores: 4, hal: 'up', upHalOnAllCpus: true });
    expect(activeCpuCount(r)).toBe(4);
    expect(new Machine(r).online.length).toBe(4);
  });

  it('an MP HAL runs cores × threadsPerCore, siblings sharing a core', () => {
    const r = rig({ cores: 3, threadsPerCore: 2 });
    expect(activeCpuCount(r)).toBe(6);
    const m = new Machine(r);
    expect(m.cpus.map((c) => c.core)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(m.cpuFor(7).index).toBe(1); // actors fold onto the rig's CPUs
  });

  it('the fingerprint follows what changes a run, not the title', () => {
    const a = rig();
    expect(rigFingerprint(rig({ title: 'other title', id: 'other' }))).toBe(rigFingerprint(a));
    for (const patch of [{ cores: 3 }, { build: 'free' }, { hal: 'up' }, { quantum: 7 }, { watchdog: { maxSteps: 999 } }, { memoryWords: 2048 }]) {
      expect(rigFingerprint(rig(patch))).not.toBe(rigFingerprint(a));
    }
  });
});
