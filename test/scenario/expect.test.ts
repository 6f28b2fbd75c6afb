import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { RunSummary } from '../../src/engine/outcome.ts';
import { PRESET_RIGS } from '../../src/machine/presets.ts';
import { checkExpectation, describeExpected, expectedOutcome, selectorMatches } from '../../src/scenario/expect.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';
import keSpinlock from '../../scenarios/spinlock/ke-spinlock.ts';
import naiveTas from '../../scenarios/spinlock/naive-tas.ts';
import queuedFifo from '../../scenarios/spinlock/queued-fifo.ts';
import recursive from '../../scenarios/spinlock/recursive-acquire.ts';
import ttas from '../../scenarios/spinlock/ttas.ts';
import { preset, rig } from '../helpers.ts';

const SCENARIOS = [abba, irqlAsLock, keSpinlock, naiveTas, queuedFifo, recursive, ttas];

function summary(outcome: RunSummary['outcome'], failure?: Partial<NonNullable<RunSummary['failure']>>): RunSummary {
  return {
    scenario: 's/x', rig: 'r', strategy: 'pct', seed: 1, schedulesRun: 10, steps: 100, elapsedMs: 1, outcome,
    ...(failure ? { failure: { kind: outcome as never, message: '', schedule: '', cpu: 0, routine: '', step: 0, cpus: [], ...failure } } : {}),
  };
}

describe('expectedOutcome', () => {
  it('picks the first matching rule per preset', () => {
    const byRig = (s: typeof abba) => Object.fromEntries(PRESET_RIGS.map((r) => [r.id, describeExpected(expectedOutcome(s, r)!)]));
    expect(byRig(abba)).toEqual({
      'uniprocessor': 'bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION/0x1001',
      'p4-ht': 'bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION/0x1001',
      'dual-opteron-240': 'bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION/0x1001',
      'quad-free': 'deadlock',
      'workstation-16': 'bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION/0x1001',
      'arm64-quad': 'bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION/0x1001',
    });
    expect(byRig(recursive)).toMatchObject({ 'uniprocessor': 'bugcheck SPIN_LOCK_ALREADY_OWNED', 'quad-free': 'hang' });
    expect(byRig(irqlAsLock)).toMatchObject({ 'uniprocessor': 'pass', 'p4-ht': "invariant 'no lost update'" });
    expect(describeExpected(expectedOutcome(abba, rig({ id: 'upf', cores: 1, hal: 'up', build: 'free' }))!)).toBe('pass');
    expect(describeExpected(expectedOutcome(recursive, rig({ id: 'upf', cores: 4, hal: 'up', build: 'free' }))!)).toBe('pass');
  });

  it('selectors match rig id, build, HAL and the CPUs that actually run', () => {
    const upOnQuad = rig({ id: 'upq', cores: 4, hal: 'up' });
    expect(selectorMatches({ maxCpus: 1 }, upOnQuad)).toBe(true);
    expect(selectorMatches({ minCpus: 2 }, upOnQuad)).toBe(false);
    expect(selectorMatches({ minCpus: 2 }, rig({ id: 'mix', cores: 4, hal: 'up', upHalOnAllCpus: true }))).toBe(true);
    expect(selectorMatches({ rig: ['a', 'upq'] }, upOnQuad)).toBe(true);
    expect(selectorMatches({ rig: 'other' }, upOnQuad)).toBe(false);
    expect(selectorMatches({ build: 'free' }, upOnQuad)).toBe(false);
    expect(selectorMatches({ hal: 'up', build: 'checked' }, upOnQuad)).toBe(true);
    expect(selectorMatches(undefined, upOnQuad)).toBe(true);
  });

  it('is undefined when no rule matches', () => {
    const s = { ...keSpinlock, expect: [{ when: { rig: 'nowhere' }, outcome: 'pass' as const }] };
    expect(expectedOutcome(s, preset('quad-free'))).toBeUndefined();
  });
});

describe('checkExpectation', () => {
  it('accepts the right outcome and explains a wrong one', () => {
    expect(checkExpectation('pass', summary('pass'))).toBeNull();
    expect(checkExpectation('pass', summary('deadlock', {}))).toMatch(/expected pass, got deadlock/);
    expect(checkExpectation('deadlock', summary('pass'))).toMatch(/expected deadlock, but 10 schedules found no failure/);
    expect(checkExpectation('hang', summary('hang', {}))).toBeNull();
    expect(checkExpectation('hang', summary('deadlock', {}))).toMatch(/expected hang, got deadlock/);
    const bc = summary('bugcheck', { bugcheck: { code: 0xc4, name: 'DRIVER_VERIFIER_DETECTED_VIOLATION', params: [0x1001, 0, 0, 0], meaning: '' } });
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x1001 }, bc)).toBeNull();
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION' }, bc)).toBeNull();
    expect(checkExpectation({ bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x30 }, bc)).toMatch(/subcode 0x30, got 0x1001/);
    expect(checkExpectation({ bugcheck: 'SPIN_LOCK_ALREADY_OWNED' }, bc)).toMatch(/expected bugcheck SPIN_LOCK_ALREADY_OWNED, got bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION \(0xC4\/0x1001\)/);
    const inv = summary('invariant', { invariant: 'no lost update' });
    expect(checkExpectation({ invariant: 'no lost update' }, inv)).toBeNull();
    expect(checkExpectation({ invariant: 'other' }, inv)).toMatch(/expected invariant 'other', got invariant 'no lost update'/);
    expect(checkExpectation({ bugcheck: 'X' }, summary('error', {}))).toMatch(/got error/);
  });

  it('every shipped spin-lock scenario meets its expectation on every x64 preset', () => {
    const misses: string[] = [];
    // The x64 presets: an arm64 row needs the ARMv8 model's reorderings (checked by `racebox regress`).
    for (const s of SCENARIOS) {
      for (const r of PRESET_RIGS.filter((p) => p.arch === 'x64')) {
        const e = expectedOutcome(s, r);
        if (e === undefined) continue;
        const res = explore(r, s, { schedules: e === 'pass' ? 150 : 3000, seed: 1 });
        const why = checkExpectation(e, res);
        if (why) misses.push(`${s.id} on ${r.id}: ${why}`);
      }
    }
    expect(misses).toEqual([]);
  }, 60_000);
});
