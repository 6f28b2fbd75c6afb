/**
 * `racebox`: list, run, replay, regress, fences, init, bench, litmus (DESIGN.md section 6).
 * Exit codes: 0 no failure found, 1 a failure found (or a regression
 * mismatch), 2 bad input with a one-line reason on stderr, or a run that
 * ended as outcome `error` (the scenario itself is broken).
 */
import { DEFAULT_DEPTH, DEFAULT_PREEMPTION_BOUND, DEFAULT_STRATEGY, STRATEGIES, type ExploreStrategy } from '../engine/explore.ts';
import type { OutcomeKind } from '../engine/outcome.ts';
import { setupStateOf } from '../engine/setup-state.ts';
import { decodeSchedule, ScheduleError } from '../engine/schedule.ts';
import type { Rig } from '../machine/rig.ts';
import type { Scenario } from '../scenario/define.ts';
import { checkExpectation, describeExpected, expectedOutcome } from '../scenario/expect.ts';
import type { ObservedOutcome } from '../scenario/outcome.ts';
import { choiceOption, limitOption, parseArgs, stringOption } from './args.ts';
import { describeRig, formatSummary, formatTrace } from './format.ts';
import { checkScenarioPath, InputError, listRigs, loadAllScenarios, loadRig, loadScenario, looksLikePath, ScenarioCheckError, splitScenarioQuery } from '../workers/node-load.ts';
import { formatFreeSummary, loadScenarioContained, runFreeJob, runJob, runPoolJob } from './runner.ts';
import { availableParallelism } from 'node:os';
import { freeRunCpuLimit, freeRunRigRefusal } from '../engine/free/availability.ts';
import { activeCpuCount } from '../machine/rig.ts';
import { litmus, LITMUS_USAGE } from './litmus.ts';

const COMMAND_USAGE: Record<string, string> = {
  list: `usage: racebox list [--json]
  The library's scenarios and the preset rigs.`,
  run: `usage: racebox run <scenario-id|file.ts> --rig <rig-id|file.json> [--strategy portfolio|pct|random|pos|dfs] [--seed N]
                   [--schedules N] [--depth D] [--preemptions P] [--workers N] [--no-shrink] [--json]
       racebox run <scenario-id|file.ts> --rig <rig> --engine free [--seconds N] [--schedules N (iterations)] [--seed N] [--json]
  Explores schedules until the first failure or the budget, then checks the scenario's expect on
  the rig (--json adds expected and matched).
  --strategy   portfolio (default): pct d=1..5, random and pos in turn, by schedule index;
               the failure says which member found it (--json: failure.foundBy)
               pct: PCT at --depth D (default 3); random; pos: partial order sampling;
               dfs: preemption-bounded depth-first search (--preemptions P, default 2)
  --no-shrink  report the failing schedule as the search found it. By default it is shrunk first:
               fewest preemptions, then fewest steps, replaying to the same failure (kind, bug
               check, routine); at most 2000 replays and 3 s, else the original is kept
               (--json: failure.preemptions, failure.originalSteps, failure.originalPreemptions)
  Exit: 0 no failure found, 1 a failure found, 2 bad input or a run that ended as outcome error.`,
  replay: `usage: racebox replay <scenario-id|file.ts> --rig <rig> --schedule <string> [--trace] [--json]
  Runs one recorded schedule again (printed by racebox run and racebox regress).`,
  init: `usage: racebox init [folder]
  Writes a commented racebox.config.ts and one example scenario (scenarios/example/counter.ts);
  refuses to overwrite either.`,
  bench: `usage: racebox bench [--json] [--quick] [--only <title>]
  The benchmark suite.`,
  litmus: LITMUS_USAGE,
};

const USAGE = `usage:
  racebox list [--json]
  racebox run <scenario-id|file.ts> --rig <rig-id|file.json> [--strategy portfolio|pct|random|pos|dfs] [--seed N]
              [--schedules N] [--depth D] [--preemptions P] [--workers N] [--no-shrink] [--json]
  racebox run <scenario-id|file.ts> --rig <rig> --engine free [--seconds N] [--schedules N (iterations)] [--seed N] [--json]
  racebox replay <scenario-id|file.ts> --rig <rig> --schedule <string> [--trace] [--json]
  racebox regress [path | folder | glob ...] [--config FILE] [--json] [--junit FILE] [--scenario <id|family>] [--rig <id>]
                  [--strategy S] [--seeds N] [--find-budget N] [--pass-budget N]
  racebox fences <scenario-id|file.ts> --rig <rig> [--budget N] [--max-changes K] [--json]
  racebox init [folder]
  racebox bench [--json] [--quick]
  racebox litmus [--arch x64|arm64] [--json]
  racebox <command> --help`;

type Out = (s: string) => void;

export async function main(argv: string[], out: Out = (s) => process.stdout.write(`${s}\n`), err: Out = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      const usage = command === 'regress' ? (await import('./regress.ts')).REGRESS_USAGE : command === 'fences' ? (await import('./fences.ts')).FENCES_USAGE : COMMAND_USAGE[command];
      if (usage !== undefined) {
        out(usage);
        return 0;
      }
    }
    switch (command) {
      case 'list':
        return await list(rest, out);
      case 'run':
        return await run(rest, out, err);
      case 'replay':
        return await replayCommand(rest, out);
      case 'regress': {
        const { regress } = await import('./regress.ts');
        return await regress(rest, out);
      }
      case 'fences': {
        const { fences } = await import('./fences.ts');
        return await fences(rest, out, err);
      }
      case 'init': {
        const { init } = await import('./init.ts');
        return init(rest, out);
      }
      case 'bench': {
        const { bench } = await import('./bench.ts');
        return await bench(rest, out, err);
      }
      case 'litmus':
        return await litmus(rest, out);
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      case undefined:
        // No command is a mistake: the usage goes where mistakes go.
        err(USAGE);
        return 2;
      default:
        throw new InputError(`unknown command '${command}' (commands: list, run, replay, regress, fences, init, bench, litmus; racebox --help shows their usage)`);
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof ScheduleError) {
      err(`racebox: ${e.message.replace(/\s*\n\s*/g, ' ')}`);
      return 2;
    }
    throw e;
  }
}

/** 0 no failure, 1 a failure found, 2 the run ended as outcome error (DESIGN.md section 6). */
function exitCodeOf(outcome: OutcomeKind): number {
  return outcome === 'pass' ? 0 : outcome === 'error' ? 2 : 1;
}

interface ExpectVerdict {
  /** The scenario's expectation on this rig; null when none of its rules applies. */
  expected: string | null;
  /** Whether the outcome is the expected one; null when nothing is expected on this rig. */
  matched: boolean | null;
  reason?: string;
}

/** Checks the scenario's `expect` against what one run observed on its rig. */
function verdict(scenario: Pick<Scenario, 'expect'> & Partial<Scenario>, rig: Rig, observed: ObservedOutcome): ExpectVerdict {
  const e = expectedOutcome(scenario, rig);
  if (e === undefined) return { expected: null, matched: null };
  // A library scenario is loaded here with its setup; a contained one's expect arrives resolved (plainExpect).
  const reason = checkExpectation(e, observed, typeof scenario.setup === 'function' ? setupStateOf(rig, scenario as Scenario) : undefined);
  return { expected: describeExpected(e), matched: reason === null, ...(reason !== null ? { reason } : {}) };
}

function formatVerdict(v: ExpectVerdict, rigId: string): string {
  if (v.expected === null) return `expect: no rule of the scenario applies to ${rigId}`;
  return v.matched ? `expect: ${v.expected} on ${rigId} — matched` : `expect: ${v.expected} on ${rigId} — NOT matched (${v.reason})`;
}

async function list(argv: string[], out: Out): Promise<number> {
  const p = parseArgs('list', argv, { json: { value: false } });
  if (p.positional.length > 0) throw new InputError(`'racebox list' takes no arguments (got ${p.positional.join(' ')})`);
  const scenarios = await loadAllScenarios();
  const rigs = listRigs();
  if (p.options.has('json')) {
    out(JSON.stringify({
      scenarios: scenarios.map((s) => ({ id: s.id, title: s.title, family: s.family, variant: s.variant ?? null, version: s.version })),
      rigs: rigs.map((r) => ({ id: r.id, title: r.title, cores: r.cores, threadsPerCore: r.threadsPerCore, hal: r.hal, build: r.build })),
    }));
    return 0;
  }
  out('Scenarios');
  const w = Math.max(...scenarios.map((s) => s.id.length));
  for (const s of scenarios) out(`  ${s.id.padEnd(w)}  ${(s.variant ?? '').padEnd(7)}  ${s.title}`);
  out('', );
  out('Rigs');
  const rw = Math.max(...rigs.map((r) => r.id.length));
  for (const r of rigs) out(`  ${r.id.padEnd(rw)}  ${describeRig(r).padEnd(32)}  ${r.title}`);
  return 0;
}

const RUN_OPTIONS = {
  rig: { value: true },
  strategy: { value: true },
  seed: { value: true },
  schedules: { value: true },
  depth: { value: true },
  preemptions: { value: true },
  engine: { value: true },
  seconds: { value: true },
  workers: { value: true },
  'no-shrink': { value: false },
  json: { value: false },
};

function oneScenario(command: string, positional: string[]): string {
  if (positional.length !== 1) throw new InputError(`'racebox ${command}' needs exactly one scenario id or file (got ${positional.length})`);
  return positional[0]!;
}

function requireRig(p: ReturnType<typeof parseArgs>, command: string): string {
  const rig = stringOption(p, 'rig');
  if (!rig) throw new InputError(`'racebox ${command}' needs --rig <rig-id|file.json>`);
  return rig;
}

/**
 * A scenario file given by path is the user's code: its top-level code runs on
 * worker threads under the watchdog (runner.ts), never on this thread. A
 * controlled run's workers load it themselves (`inWorkers`), so it is not
 * loaded here at all (id undefined: the run's summary names it); free-run
 * needs its id first and loads it on a worker of its own. Library ids load
 * here, so that an unknown id is reported before any worker starts.
 */
/** What the CLI needs of a scenario on its main thread: its id, where to load it again, and its expectations. */
type ResolvedScenario = Pick<Scenario, 'id' | 'expect'> & { source?: string };

/**
 * A library scenario is loaded here (trusted, and checked by the library's tests); a file is never
 * imported on the main thread: its syntax-tree check runs here (it only reads the text), then it is
 * loaded on a worker under the watchdog for its id and expectations (a top-level loop or
 * process.exit cannot hang or end the CLI).
 */
async function resolveScenario(ref: string, rig?: Rig): Promise<ResolvedScenario> {
  if (!looksLikePath(splitScenarioQuery(ref).path)) return loadScenario(ref);
  checkScenarioPath(ref);
  return loadScenarioContained(ref, rig);
}

function replayHint(scenarioRef: string, rigRef: string): (schedule: string) => string {
  return (schedule) => `racebox replay ${scenarioRef} --rig ${rigRef} --schedule ${schedule}`;
}

async function run(argv: string[], out: Out, err: Out): Promise<number> {
  const p = parseArgs('run', argv, RUN_OPTIONS);
  const scenarioRef = oneScenario('run', p.positional);
  const rigRef = requireRig(p, 'run');
  const rig = loadRig(rigRef);
  const engine = choiceOption(p, 'engine', ['controlled', 'free'] as const, 'controlled');
  const strategy = choiceOption<ExploreStrategy>(p, 'strategy', STRATEGIES, DEFAULT_STRATEGY);
  const seed = limitOption(p, 'seed', 1);
  const schedules = limitOption(p, 'schedules', 1000);
  const depth = limitOption(p, 'depth', DEFAULT_DEPTH);
  const preemptionBound = limitOption(p, 'preemptions', DEFAULT_PREEMPTION_BOUND);
  const workers = limitOption(p, 'workers', 1);
  const json = p.options.has('json');
  if (engine === 'free') {
    for (const o of ['strategy', 'depth', 'preemptions', 'workers', 'no-shrink']) {
      if (p.options.has(o)) throw new InputError(`--${o} applies to the controlled engine; free-run uses one worker per logical CPU of the rig`);
    }
    // Said before anything loads: an arm64 rig (the host's Atomics cannot reorder), a rig with more CPUs than this host can start as workers.
    const refused = freeRunRigRefusal(rig);
    if (refused !== null) throw new InputError(`rig '${rig.id}' is arm64: ${refused}`);
    const tooMany = freeRunCpuLimit(activeCpuCount(rig), availableParallelism());
    if (tooMany !== null) throw new InputError(tooMany);
  } else if (p.options.has('seconds')) {
    throw new InputError('--seconds applies to --engine free; the controlled engine runs a schedule budget (--schedules N)');
  }
  if (workers > availableParallelism()) {
    err(`racebox: warning: --workers ${workers} is more than this host's ${availableParallelism()} cores: the extra workers share cores and the run goes no faster`);
  }
  // Resolve the scenario here first, so that an unknown id is reported before any worker starts.
  let scenario: ResolvedScenario;
  try {
    scenario = await resolveScenario(scenarioRef, rig);
  } catch (e) {
    // The scenario is broken, not the command line: with --json that is a run whose outcome is 'error'.
    if (json && e instanceof ScenarioCheckError) out(JSON.stringify(checkErrorSummary(e, scenarioRef, rig.id, strategy, seed)));
    throw e;
  }
  const ref = scenario.source ?? scenarioRef;
  const showProgress = !json && process.stderr.isTTY === true;
  if (engine === 'free') {
    const summary = await runFreeJob(
      {
        scenario: ref,
        scenarioId: scenario.id,
        rig,
        ...(p.options.has('seconds') ? { seconds: limitOption(p, 'seconds', 5) } : {}),
        iterations: p.options.has('schedules') ? schedules : 0,
        seed,
        controlledCommand: `racebox run ${scenarioRef} --rig ${rigRef} --engine controlled`,
      },
      showProgress ? (pr) => err(`  … ${pr.iterations} iterations, ${pr.acquisitions} lock acquisitions, ${Math.round((pr.operations * 1000) / Math.max(1, pr.elapsedMs))} operations/s`) : undefined,
    );
    const v = verdict(scenario, rig, summary);
    out(json ? JSON.stringify({ ...summary, expected: v.expected, matched: v.matched }) : `${formatFreeSummary(summary, describeRig(rig))}\n\n${formatVerdict(v, rig.id)}`);
    return exitCodeOf(summary.outcome);
  }
  const options = { strategy, seed, schedules, depth, preemptionBound };
  const shrink = !p.options.has('no-shrink');
  const progress = showProgress
    ? (pr: { schedulesRun: number; elapsedMs: number }) => err(`  … ${pr.schedulesRun} schedules, ${Math.round((pr.schedulesRun * 1000) / Math.max(1, pr.elapsedMs))}/s`)
    : undefined;
  const summary =
    workers > 1
      ? await runPoolJob({ scenario: ref, rig, workers, options: { ...options, shrink } }, progress)
      : (await runJob({ kind: 'explore', scenario: ref, rig, options: { ...options, progressEvery: 5000 }, shrink }, progress)).summary;
  summary.scenario = scenario.id;
  const v = verdict(scenario, rig, summary);
  out(json ? JSON.stringify({ ...summary, expected: v.expected, matched: v.matched }) : `${formatSummary(summary, rig, replayHint(scenarioRef, rigRef))}\n${formatVerdict(v, rig.id)}`);
  return exitCodeOf(summary.outcome);
}

function checkErrorSummary(e: ScenarioCheckError, scenario: string, rig: string, strategy: string, seed: number): object {
  return {
    scenario, rig, strategy, seed, schedulesRun: 0, steps: 0, elapsedMs: 0, outcome: 'error',
    failure: { kind: 'error', message: e.message, source: { file: e.file, line: e.line, column: e.column } },
  };
}

async function replayCommand(argv: string[], out: Out): Promise<number> {
  const p = parseArgs('replay', argv, { rig: { value: true }, schedule: { value: true }, trace: { value: false }, json: { value: false } });
  const scenarioRef = oneScenario('replay', p.positional);
  const rigRef = requireRig(p, 'replay');
  const schedule = stringOption(p, 'schedule');
  if (!schedule) throw new InputError(`'racebox replay' needs --schedule <string> (printed by racebox run)`);
  const rig = loadRig(rigRef);
  const scenario = await resolveScenario(scenarioRef, rig);
  decodeSchedule(schedule);
  const trace = p.options.has('trace');
  const { summary, trace: steps } = await runJob({ kind: 'replay', scenario: scenario.source ?? scenarioRef, rig, schedule, trace });
  summary.scenario = scenario.id ?? summary.scenario;
  if (summary.outcome === 'error' && summary.failure?.message.startsWith('replay diverged')) {
    throw new InputError(`${summary.failure.message} — was the scenario changed without bumping its version?`);
  }
  if (p.options.has('json')) {
    out(JSON.stringify(trace ? { ...summary, trace: steps ?? [] } : summary));
  } else {
    if (trace && steps) out(formatTrace(steps));
    out(formatSummary(summary, rig, replayHint(scenarioRef, rigRef)));
  }
  return exitCodeOf(summary.outcome);
}
