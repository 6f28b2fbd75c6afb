/**
 * `racebox regress [path | folder | glob ...]`: every scenario against every rig its `expect`
 * applies to (the presets plus the rigs a config lists), each row printed as
 * `scenario on rig: expected …, observed …`, with the schedule and a replay command on a
 * mismatch. Which scenarios: the arguments, else a racebox.config.ts/.json found from the
 * working folder, else the library. With `--seeds N` each expected failure must be found by at
 * least 9 in 10 of seeds 1..N. Exit 2 when a row is bad input or ends as outcome `error`, else
 * 1 on any mismatch, else 0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { explore, STRATEGIES, type ExploreStrategy } from '../engine/explore.ts';
import type { RunSummary } from '../engine/outcome.ts';
import { setupStateOf } from '../engine/setup-state.ts';
import { activeCpuCount, type Rig } from '../machine/rig.ts';
import type { RegressSettings, RegressStrategy } from '../scenario/config.ts';
import type { Scenario } from '../scenario/define.ts';
import { checkExpectation, describeExpected, describeFailure } from '../scenario/expect.ts';
import { shrinkSummary } from '../engine/shrink.ts';
import { scenarioRows, type MatrixRow } from '../scenario/matrix.ts';
import { choiceOption, intOption, parseArgs, stringOption } from './args.ts';
import { junitXml, type JUnitCase } from './junit.ts';
import { inLibrary, loadProject, loadScenarios, shown } from './project.ts';
import { InputError, loadRig } from '../workers/node-load.ts';

// The config's strategies must be ones the engine runs.
const _strategiesAgree: RegressStrategy extends ExploreStrategy ? true : never = true;
void _strategiesAgree;

export const REGRESS_USAGE = `usage: racebox regress [path | folder | glob ...] [--config FILE] [--json] [--junit FILE]
                       [--scenario <id|family>] [--rig <id|file.json>] [--strategy portfolio|pct|random|pos|dfs]
                       [--seeds N] [--find-budget N] [--pass-budget N]

Runs every scenario on every rig its expect applies to and checks the outcome.
  path, folder, glob   scenario files to run (a folder is searched recursively; there a
                       module without a default export is a helper and is skipped)
  (no arguments)       the scenarios of racebox.config.ts/.json, found in this folder or a
                       parent; without one, the scenario library of racebox
  --config FILE        use this config file instead of looking for one
  --json               print one JSON object with every row
  --junit FILE         also write a JUnit XML report (one testcase per scenario × rig)
  --scenario, --rig    only the rows of this scenario (or family) / this rig
  --strategy           exploration strategy (default: the config's, else portfolio)
  --seeds N            search an expected failure with seeds 1..N; 9 in 10 must find it (default 1)
  --find-budget N      schedules per seed for an expected failure (default 10000)
  --pass-budget N      schedules for an expected pass (default: the scenario's budget, else 2000)
Exit: 0 every row as expected, 1 a mismatch, 2 bad input or a run that ended as outcome error.`;

export type RowStatus = 'ok' | 'mismatch' | 'error' | 'bad-input';

export interface RegressRow {
  /** The scenario id; for a file that did not load, its path. */
  scenario: string;
  /** The scenario's file, relative to the working folder (absent for library scenarios). */
  file?: string;
  /** The rig id; '-' for a scenario that did not load. */
  rig: string;
  expected: string;
  observed: string;
  ok: boolean;
  status: RowStatus;
  reason?: string;
  strategy?: string;
  schedulesRun: number;
  elapsedMs: number;
  schedule?: string;
  replay?: string;
  /** With --seeds: in how many seeds the expected failure was found. */
  seedsFound?: number;
  seeds?: number;
}

export async function regress(argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs('regress', argv, {
    json: { value: false },
    junit: { value: true },
    config: { value: true },
    scenario: { value: true },
    rig: { value: true },
    strategy: { value: true },
    seeds: { value: true },
    'find-budget': { value: true },
    'pass-budget': { value: true },
    help: { value: false },
  });
  if (p.options.has('help')) {
    out(REGRESS_USAGE);
    return 0;
  }
  const cli: RegressSettings = {
    ...(p.options.has('strategy') ? { strategy: choiceOption<ExploreStrategy>(p, 'strategy', STRATEGIES, 'portfolio') } : {}),
    ...(p.options.has('seeds') ? { seeds: intOption(p, 'seeds', 1, 1000, 1) } : {}),
    ...(p.options.has('find-budget') ? { findBudget: intOption(p, 'find-budget', 1, 100_000_000, 10_000) } : {}),
    ...(p.options.has('pass-budget') ? { passBudget: intOption(p, 'pass-budget', 1, 1_000_000_000, 2000) } : {}),
  };
  const json = p.options.has('json');
  const junit = stringOption(p, 'junit');
  const project = await loadProject(p.positional, process.cwd(), stringOption(p, 'config'));
  const onlyRig = stringOption(p, 'rig');
  let rigs = project.rigs;
  if (onlyRig !== undefined) {
    const known = rigs.find((r) => r.id === onlyRig);
    const rig = known ?? loadRig(onlyRig);
    if (!known) project.rigRefs.set(rig.id, onlyRig);
    rigs = [rig];
  }
  const rigIds = new Set([...project.rigs, ...rigs].map((r) => r.id));

  const { scenarios: all, broken: brokenFiles } = await loadScenarios(project.files, rigIds, project.rigs);
  const broken = brokenFiles.map((b): RegressRow => ({
    scenario: b.scenario, file: shown(b.file), rig: '-', expected: '-', observed: 'bad input', ok: false, status: 'bad-input', reason: b.reason, schedulesRun: 0, elapsedMs: 0,
  }));
  const onlyScenario = stringOption(p, 'scenario');
  const scenarios = onlyScenario === undefined ? all : all.filter(({ scenario: s }) => s.id === onlyScenario || s.id.startsWith(`${onlyScenario}/`));
  if (onlyScenario !== undefined && scenarios.length === 0 && broken.length === 0) throw new InputError(`unknown scenario or family '${onlyScenario}'`);

  const rows: RegressRow[] = [];
  const report = (row: RegressRow): void => {
    rows.push(row);
    if (!json) out(formatRow(row));
  };
  broken.forEach(report);
  for (const { scenario, file } of scenarios) {
    for (const m of scenarioRows(scenario, rigs, project.config, cli)) {
      const rig = rigs.find((r) => r.id === m.rig)!;
      const shownFile = project.library && inLibrary(file) ? undefined : shown(file);
      try {
        report(runRow(scenario, rig, m, { file: shownFile, rigRef: project.rigRefs.get(rig.id) ?? rig.id }));
      } catch (e) {
        // The engine reports a scenario that throws as outcome error; anything else is still this row's error, not the matrix's.
        report({
          scenario: scenario.id, ...(shownFile !== undefined ? { file: shownFile } : {}), rig: rig.id, expected: describeExpected(m.expected), observed: 'error', ok: false,
          status: 'error', reason: `the run failed: ${(e as Error).message.split('\n')[0]}`, strategy: m.strategy, schedulesRun: 0, elapsedMs: 0,
        });
      }
    }
  }

  const count = (s: RowStatus): number => rows.filter((r) => r.status === s).length;
  const summary = { passed: count('ok'), failed: count('mismatch'), errors: count('error') + count('bad-input') };
  if (junit !== undefined) writeJunit(resolve(junit), rows);
  if (json) {
    out(JSON.stringify({ ...summary, ...(project.configFile ? { config: shown(project.configFile) } : {}), rigs: rigs.map((r) => r.id), results: rows }));
  } else {
    const problems = [summary.failed ? `${summary.failed} mismatch${summary.failed === 1 ? '' : 'es'}` : '', summary.errors ? `${summary.errors} error${summary.errors === 1 ? '' : 's'}` : ''].filter(Boolean);
    out(
      `regress: ${summary.passed} of ${rows.length} rows as expected${problems.length ? ` (${problems.join(', ')})` : ''} across ${plural(scenarios.length, 'scenario')} and ${plural(rigs.length, 'rig')} ` +
        `(${rigs.map((r) => `${r.id}: ${activeCpuCount(r)} CPU`).join(', ')})${project.configFile ? `, config ${shown(project.configFile)}` : ''}` +
        (junit !== undefined ? `; JUnit report in ${junit}` : ''),
    );
  }
  return summary.errors > 0 ? 2 : summary.failed > 0 ? 1 : 0;
}

function shellWord(s: string): string {
  return /^[\w./@:+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function runRow(s: Scenario, rig: Rig, m: MatrixRow, refs: { file: string | undefined; rigRef: string }): RegressRow {
  const expected = describeExpected(m.expected);
  let found = 0;
  let shownRun: RunSummary | undefined;
  let reason: string | null = null;
  let schedules = 0;
  let ms = 0;
  let error: RunSummary | undefined;
  const setupState = setupStateOf(rig, s);
  for (let seed = 1; seed <= m.seeds; seed++) {
    const r = explore(rig, s, { schedules: m.schedules, seed, strategy: m.strategy });
    const why = checkExpectation(m.expected, r, setupState);
    schedules += r.schedulesRun;
    ms += r.elapsedMs;
    if (why === null) found++;
    if (r.outcome === 'error') error ??= r;
    // Report the first seed that disagrees, else the first seed.
    if (!shownRun || (reason === null && why !== null)) {
      shownRun = r;
      reason = why;
    }
  }
  // One seed must find it; with --seeds, 9 in 10 must.
  const needed = m.seeds === 1 ? 1 : Math.ceil(m.seeds * 0.9);
  const ok = found >= needed && !error;
  const r = error ?? shownRun!;
  if (ok) reason = null;
  else if (error) reason = `the run ended as outcome error: ${error.failure?.message ?? 'the scenario is broken'}`;
  else reason ??= `found in only ${found} of ${m.seeds} seeds`;
  // A mismatch shows its failure with the smallest schedule, as `racebox run` and the app do (shrink.ts).
  const schedule = !ok && r.failure?.schedule ? shrinkSummary(rig, s, r).failure!.schedule : undefined;
  const scenarioRef = refs.file ?? s.id;
  return {
    scenario: s.id,
    ...(refs.file !== undefined ? { file: refs.file } : {}),
    rig: rig.id,
    expected,
    observed: r.outcome === 'pass' ? 'pass' : describeFailure(r),
    ok,
    status: ok ? 'ok' : error ? 'error' : 'mismatch',
    ...(reason !== null ? { reason } : {}),
    strategy: m.strategy,
    schedulesRun: schedules,
    elapsedMs: Math.round(ms),
    ...(schedule ? { schedule, replay: `npx racebox replay ${shellWord(scenarioRef)} --rig ${shellWord(refs.rigRef)} --schedule ${schedule}` } : {}),
    ...(m.seeds > 1 ? { seedsFound: found, seeds: m.seeds } : {}),
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const MARK: Record<RowStatus, string> = { ok: 'ok   ', mismatch: 'FAIL ', error: 'ERROR', 'bad-input': 'ERROR' };

export function formatRow(row: RegressRow): string {
  if (row.status === 'bad-input') return `${MARK[row.status]} ${row.reason}`;
  const seeds = row.seeds ? `, found in ${row.seedsFound}/${row.seeds} seeds` : '';
  const lines = [`${MARK[row.status]} ${row.scenario} on ${row.rig}: expected ${row.expected}, observed ${row.observed} (${plural(row.schedulesRun, 'schedule')}${seeds})`];
  if (!row.ok) {
    // The row already says what was expected and observed; a reason is printed when it adds to that.
    if (row.reason && row.reason !== `expected ${row.expected}, got ${row.observed}`) lines.push(`      ${row.reason}`);
    if (row.schedule) lines.push(`      schedule: ${row.schedule}`, `      replay:   ${row.replay}`);
  }
  return lines.join('\n');
}

function writeJunit(file: string, rows: RegressRow[]): void {
  const cases: JUnitCase[] = rows.map((r) => {
    const name = r.status === 'bad-input' ? `${r.scenario} (does not load)` : `${r.scenario} on ${r.rig}`;
    const c: JUnitCase = { name, classname: r.file ?? `racebox.${r.scenario.split('/')[0]}`, timeMs: r.elapsedMs };
    if (r.ok) return c;
    const text = [r.reason ?? '', r.schedule ? `schedule: ${r.schedule}` : '', r.replay ? `replay: ${r.replay}` : ''].filter(Boolean).join('\n');
    const problem = { message: r.status === 'bad-input' ? (r.reason ?? 'bad input') : `expected ${r.expected}, observed ${r.observed}`, type: r.status, text };
    return r.status === 'mismatch' ? { ...c, failure: problem } : { ...c, error: problem };
  });
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, junitXml('racebox regress', cases));
  } catch (e) {
    throw new InputError(`cannot write the JUnit report ${file}: ${(e as Error).message}`);
  }
}
