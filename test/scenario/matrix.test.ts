import { describe, expect, it } from 'vitest';
import { PRESET_RIGS } from '../../src/machine/presets.ts';
import type { Rig } from '../../src/machine/rig.ts';
import { ConfigError, validateConfig } from '../../src/scenario/config.ts';
import { defineScenario, type Scenario } from '../../src/scenario/define.ts';
import { matrixRows, REGRESS_DEFAULTS, settingsFor, unknownExpectRig } from '../../src/scenario/matrix.ts';

function scenario(id: string, expect: Scenario['expect'], budget?: number): Scenario {
  return defineScenario({
    id, title: id, description: '', family: id.split('/')[0]!, setup: () => ({}),
    actors: { t: { *run(k) { yield* k.YieldProcessor(); } } },
    expect,
    ...(budget !== undefined ? { budget } : {}),
  });
}

const teamBox: Rig = { ...PRESET_RIGS.find((r) => r.id === 'dual-opteron-240')!, id: 'team-box', title: 'Team box' };
const RIGS = [...PRESET_RIGS, teamBox];

describe('the regression matrix', () => {
  it('one row per rig a rule applies to, in the rigs\' order, with the settings of its kind', () => {
    const s = scenario('team/a', [
      { when: { maxCpus: 1 }, outcome: 'pass' },
      { when: { rig: 'team-box' }, outcome: 'deadlock' },
    ]);
    const rows = matrixRows([s], RIGS, { seeds: 4 });
    expect(rows).toEqual([
      { scenario: 'team/a', rig: 'uniprocessor', expected: 'pass', strategy: 'portfolio', seeds: 1, schedules: 2000 },
      { scenario: 'team/a', rig: 'team-box', expected: 'deadlock', strategy: 'portfolio', seeds: 4, schedules: 10_000 },
    ]);
  });

  it('settings: command line, then the override, then the scenario budget, then the config, then the defaults', () => {
    const s = scenario('team/b', 'pass', 777);
    expect(settingsFor(s, undefined)).toEqual({ ...REGRESS_DEFAULTS, passBudget: 777 });
    expect(settingsFor(scenario('team/c', 'pass'), { passBudget: 50 }).passBudget).toBe(50);
    const config = { passBudget: 50, strategy: 'random' as const, findBudget: 9, overrides: { 'team/b': { passBudget: 60, strategy: 'dfs' as const } } };
    expect(settingsFor(s, config)).toEqual({ strategy: 'dfs', seeds: 1, findBudget: 9, passBudget: 60 });
    expect(settingsFor(s, config, { passBudget: 70, seeds: 3 })).toEqual({ strategy: 'dfs', seeds: 3, findBudget: 9, passBudget: 70 });
  });

  it('names the first rule whose when.rig is not a known rig', () => {
    const ids = new Set(RIGS.map((r) => r.id));
    expect(unknownExpectRig(scenario('team/d', [{ when: { rig: ['team-box', 'quad-free'] }, outcome: 'pass' }]), ids)).toBeUndefined();
    expect(unknownExpectRig(scenario('team/e', [{ when: { maxCpus: 1 }, outcome: 'pass' }, { when: { rig: ['quad-free', 'nope'] }, outcome: 'hang' }]), ids))
      .toEqual({ field: 'expect[1].when.rig', rig: 'nope' });
  });
});

describe('config validation', () => {
  const check = (doc: unknown): string => {
    try {
      validateConfig(doc, 'racebox.config.json');
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
  };

  it('accepts a full config and names the field of each mistake', () => {
    expect(check({ scenarios: ['a/*.ts'], rigs: ['r.json'], strategy: 'dfs', seeds: 2, findBudget: 10, passBudget: 20, overrides: { 'a/b': { seeds: 3 } } })).toBe('ok');
    expect(check([])).toMatch(/^racebox\.config\.json: the config must be an object/);
    expect(check({ scenarios: ['a', 3] })).toBe('racebox.config.json: scenarios[1]: must be a string glob');
    expect(check({ scenarios: 'a/*.ts' })).toMatch(/^racebox\.config\.json: scenarios: must be a list/);
    expect(check({ rigs: [''] })).toMatch(/^racebox\.config\.json: rigs\[0\]: must be a path/);
    expect(check({ sceanrios: [] })).toMatch(/^racebox\.config\.json: sceanrios: unknown field/);
    expect(check({ strategy: 'bfs' })).toMatch(/^racebox\.config\.json: strategy: must be one of portfolio, pct, random, pos, dfs/);
    expect(check({ seeds: 0 })).toMatch(/^racebox\.config\.json: seeds: must be an integer from 1/);
    expect(check({ overrides: { 'a/b': { passBudget: 1.5 } } })).toMatch(/^racebox\.config\.json: overrides\['a\/b'\]\.passBudget: must be an integer/);
    expect(check({ overrides: { 'a/b': { budget: 5 } } })).toMatch(/^racebox\.config\.json: overrides\['a\/b'\]\.budget: unknown field/);
  });
});
