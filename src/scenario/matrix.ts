/**
 * The regression matrix: which (scenario, rig) rows `racebox regress` runs, what each expects and
 * how hard it searches. Pure, so that any runner (the CLI in Node, a Playwright project in the
 * browser) enumerates exactly the same rows from the same scenarios, rigs and config.
 */
import type { Rig } from '../machine/rig.ts';
import type { RaceboxConfig, RegressSettings, RegressStrategy } from './config.ts';
import type { ExpectRule, ExpectedOutcome, Scenario } from './define.ts';
import { expectedOutcome } from './expect.ts';

/** The built-in settings, used when neither the command line, the config nor the scenario says otherwise. */
export const REGRESS_DEFAULTS: Readonly<Required<RegressSettings>> = { strategy: 'portfolio', seeds: 1, findBudget: 10_000, passBudget: 2000 };

export interface MatrixRow {
  scenario: string;
  rig: string;
  expected: ExpectedOutcome;
  strategy: RegressStrategy;
  /** Seeds 1..seeds are searched (a row that expects `pass` runs seed 1 only). */
  seeds: number;
  /** Schedules each seed explores. */
  schedules: number;
}

/**
 * The settings one scenario runs with, most specific first: the command line, the config's
 * override for this scenario, the scenario's own `budget` (for `pass` rows), the config's
 * defaults, the built-in defaults.
 */
export function settingsFor(s: Scenario, config: RaceboxConfig | undefined, cli: RegressSettings = {}): Required<RegressSettings> {
  const o = config?.overrides?.[s.id] ?? {};
  return {
    strategy: cli.strategy ?? o.strategy ?? config?.strategy ?? REGRESS_DEFAULTS.strategy,
    seeds: cli.seeds ?? o.seeds ?? config?.seeds ?? REGRESS_DEFAULTS.seeds,
    findBudget: cli.findBudget ?? o.findBudget ?? config?.findBudget ?? REGRESS_DEFAULTS.findBudget,
    passBudget: cli.passBudget ?? o.passBudget ?? s.budget ?? config?.passBudget ?? REGRESS_DEFAULTS.passBudget,
  };
}

/** The rows of one scenario: every rig for which one of its `expect` rules applies, in the rigs' order. */
export function scenarioRows(s: Scenario, rigs: readonly Rig[], config?: RaceboxConfig, cli?: RegressSettings): MatrixRow[] {
  const set = settingsFor(s, config, cli);
  const rows: MatrixRow[] = [];
  for (const rig of rigs) {
    const expected = expectedOutcome(s, rig);
    if (expected === undefined) continue;
    const pass = expected === 'pass';
    rows.push({
      scenario: s.id,
      rig: rig.id,
      expected,
      strategy: set.strategy,
      seeds: pass ? 1 : set.seeds,
      schedules: pass ? set.passBudget : set.findBudget,
    });
  }
  return rows;
}

export function matrixRows(scenarios: readonly Scenario[], rigs: readonly Rig[], config?: RaceboxConfig, cli?: RegressSettings): MatrixRow[] {
  return scenarios.flatMap((s) => scenarioRows(s, rigs, config, cli));
}

/**
 * A rule naming a rig that is neither a preset nor one the config lists would never apply, and
 * the row it meant to check would silently vanish: returns the field and the id, or undefined.
 */
export function unknownExpectRig(s: Scenario, rigIds: ReadonlySet<string>): { field: string; rig: string } | undefined {
  if (!Array.isArray(s.expect)) return undefined;
  const rules: ExpectRule[] = s.expect;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!.when?.rig;
    if (r === undefined) continue;
    for (const id of Array.isArray(r) ? r : [r]) {
      if (!rigIds.has(id)) return { field: `expect[${i}].when.rig`, rig: id };
    }
  }
  return undefined;
}
