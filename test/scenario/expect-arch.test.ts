/**
 * Expectations per architecture (`when: { arch }`) and the scenario's `volatile` setting: what
 * defineScenario accepts and rejects, which rigs a rule selects, and the regression rows it makes.
 */
import { describe, expect, it } from 'vitest';
import { PRESET_RIGS } from '../../src/machine/presets.ts';
import { defineScenario, type Scenario } from '../../src/scenario/define.ts';
import { expectedOutcome, selectorMatches } from '../../src/scenario/expect.ts';
import { matrixRows } from '../../src/scenario/matrix.ts';
import { preset, rig } from '../helpers.ts';
import publishWithoutBarrier from '../../scenarios/memory/publish-without-barrier.ts';
import publishWithRelease from '../../scenarios/memory/publish-with-release.ts';
import plainStoreRelease from '../../scenarios/spinlock/plain-store-release.ts';
import releaseWithBarrier from '../../scenarios/spinlock/release-with-barrier.ts';
import dekkerFlags from '../../scenarios/memory/dekker-flags.ts';
import dekkerWithBarrier from '../../scenarios/memory/dekker-with-barrier.ts';
import lazyInitDoubleChecked from '../../scenarios/memory/lazy-init-double-checked.ts';
import lazyInitAcquireRelease from '../../scenarios/memory/lazy-init-acquire-release.ts';
import volatileIso from '../../scenarios/memory/volatile-iso.ts';
import volatileMs from '../../scenarios/memory/volatile-ms.ts';

function scenario(id: string, expect: Scenario['expect'], extra: Record<string, unknown> = {}): Scenario {
  return defineScenario({
    id, title: id, description: '', family: 'team', setup: () => ({}),
    actors: { t: { *run(k) { yield* k.YieldProcessor(); } } },
    expect,
    ...extra,
  });
}

describe('when: { arch }', () => {
  it('matches the rig\'s architecture; rigs without one are x64', () => {
    const arm = rig({ id: 'a', arch: 'arm64' });
    const x64 = rig({ id: 'x' });
    expect(x64.arch).toBe('x64');
    expect(selectorMatches({ arch: 'arm64' }, arm)).toBe(true);
    expect(selectorMatches({ arch: 'x64' }, arm)).toBe(false);
    expect(selectorMatches({ arch: 'x64' }, x64)).toBe(true);
    expect(selectorMatches({ arch: 'arm64' }, x64)).toBe(false);
    expect(selectorMatches({ arch: 'arm64', minCpus: 8 }, arm)).toBe(false);
    expect(selectorMatches({ arch: 'arm64', build: 'checked' }, preset('arm64-quad'))).toBe(true);
  });

  it('the first matching rule applies: one outcome on arm64, another elsewhere', () => {
    const s = scenario('team/publish', [
      { when: { arch: 'arm64' }, outcome: { invariant: 'fields seen' } },
      { when: { minCpus: 2 }, outcome: 'pass' },
    ]);
    const byRig = Object.fromEntries(PRESET_RIGS.map((r) => [r.id, expectedOutcome(s, r)]));
    expect(byRig).toEqual({
      'uniprocessor': undefined,
      'p4-ht': 'pass',
      'dual-opteron-240': 'pass',
      'quad-free': 'pass',
      'workstation-16': 'pass',
      'arm64-quad': { invariant: 'fields seen' },
    });
  });

  it('makes one regression row per rig, the arm64 one searching for the failure', () => {
    const s = scenario('team/publish', [
      { when: { arch: 'arm64' }, outcome: { invariant: 'fields seen' } },
      { when: { arch: 'x64', minCpus: 2 }, outcome: 'pass' },
    ]);
    const rows = matrixRows([s], PRESET_RIGS, { seeds: 3 });
    expect(rows.map((r) => [r.rig, r.expected, r.seeds])).toEqual([
      ['p4-ht', 'pass', 1],
      ['dual-opteron-240', 'pass', 1],
      ['quad-free', 'pass', 1],
      ['workstation-16', 'pass', 1],
      ['arm64-quad', { invariant: 'fields seen' }, 3],
    ]);
  });

  it('defineScenario rejects an unknown architecture, naming the field', () => {
    expect(() => scenario('team/bad', [{ when: { arch: 'arm' } as never, outcome: 'pass' }])).toThrow(/scenario 'team\/bad': expect: when\.arch must be 'x64' or 'arm64' \(got "arm"\)/);
    expect(() => scenario('team/bad', [{ when: { architecture: 'arm64' } as never, outcome: 'pass' }])).toThrow(/'architecture' is not a rig selector \(rig, arch, build/);
  });
});

describe('the volatile setting', () => {
  it('accepts ms and iso, and leaves it unset by default', () => {
    expect(scenario('team/v1', 'pass', { volatile: 'ms' }).volatile).toBe('ms');
    expect(scenario('team/v2', 'pass', { volatile: 'iso' }).volatile).toBe('iso');
    expect(scenario('team/v3', 'pass').volatile).toBeUndefined();
  });

  it('rejects anything else with what the values mean', () => {
    expect(() => scenario('team/v4', 'pass', { volatile: 'msvc' })).toThrow(/scenario 'team\/v4': volatile must be 'ms' \(\/volatile:ms: acquire\/release\) or 'iso' \(\/volatile:iso: no ordering\) \(got "msvc"\)/);
    expect(() => scenario('team/v5', 'pass', { volatile: true })).toThrow(/volatile must be 'ms'/);
  });
});

describe('the weak-memory scenarios expect what issue 17 says, per rig', () => {
  const SCENARIOS: Scenario[] = [
    publishWithoutBarrier, publishWithRelease, plainStoreRelease, releaseWithBarrier, dekkerFlags, dekkerWithBarrier,
    lazyInitDoubleChecked, lazyInitAcquireRelease, volatileIso, volatileMs,
  ];

  it('buggy ones fail on arm64-quad (dekker on every multiprocessor rig too); correct ones pass everywhere', () => {
    const table: Record<string, Record<string, string>> = {};
    for (const s of SCENARIOS) {
      table[s.id] = Object.fromEntries(PRESET_RIGS.map((r) => {
        const o = expectedOutcome(s, r);
        return [r.id, o === undefined ? 'none' : typeof o === 'string' ? o : 'invariant' in o ? `invariant ${o.invariant}` : JSON.stringify(o)];
      }));
    }
    const x64Pass = { 'uniprocessor': 'pass', 'p4-ht': 'pass', 'dual-opteron-240': 'pass', 'quad-free': 'pass', 'workstation-16': 'pass' };
    const everywhere = { ...x64Pass, 'arm64-quad': 'pass' };
    expect(table).toEqual({
      'memory/publish-without-barrier': { ...x64Pass, 'arm64-quad': 'invariant worker sees the context filled in' },
      'memory/publish-with-release': everywhere,
      'spinlock/plain-store-release': { ...x64Pass, 'arm64-quad': 'invariant no lost update' },
      'spinlock/release-with-barrier': everywhere,
      'memory/dekker-flags': {
        'uniprocessor': 'pass', 'p4-ht': 'invariant mutual exclusion', 'dual-opteron-240': 'invariant mutual exclusion',
        'quad-free': 'invariant mutual exclusion', 'workstation-16': 'invariant mutual exclusion', 'arm64-quad': 'invariant mutual exclusion',
      },
      'memory/dekker-with-barrier': everywhere,
      'memory/lazy-init-double-checked': { ...x64Pass, 'arm64-quad': 'invariant every caller sees an initialised block' },
      'memory/lazy-init-acquire-release': everywhere,
      'memory/volatile-iso': { ...x64Pass, 'arm64-quad': 'invariant consumer sees the data' },
      'memory/volatile-ms': everywhere,
    });
  });
});
