/**
 * `racebox fences <scenario> --rig <rig> [--budget N] [--max-changes K] [--json]`: the smallest
 * ordering changes that make a scenario's failure disappear (src/engine/fences.ts), each printed
 * with its source line. The search runs on a worker thread under the CLI's watchdog, like `run`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  changeKindText, DEFAULT_FENCE_BUDGET, DEFAULT_MAX_CHANGES, describeChange, type FenceChange, type FenceReport, type FenceSite,
} from '../engine/fences.ts';
import { InputError, loadRig } from '../workers/node-load.ts';
import { intOption, parseArgs, stringOption } from './args.ts';
import { watched } from './runner.ts';
import type { WorkerMessage } from './worker.ts';

export const FENCES_USAGE = `usage: racebox fences <scenario-id|file.ts> --rig <rig-id|file.json> [--budget N] [--max-changes K] [--json]
  Finds the smallest set of ordering changes to the scenario's ordering-API accesses (ReadNoFence,
  WriteNoFence, volatile accessors …) that makes its failure disappear: a write → WriteRelease,
  a read → ReadAcquire, or a KeMemoryBarrier() right before an access. Release/acquire is tried
  before a full barrier, one change before two. A change set counts as a fix when the default
  strategy finds no failure in --budget schedules (default ${DEFAULT_FENCE_BUDGET}) for each of seeds 1, 2 and 3;
  the failure itself is looked for the same way.
  --max-changes  the largest change set tried (default ${DEFAULT_MAX_CHANGES}, at most 4)
  --json         the whole report (docs/fences.md)
  Exit: 0 suggestions found, 1 the scenario does not fail or no set within the bound fixes it,
  2 bad input or a scenario that ends as outcome error.`;

type Out = (s: string) => void;

/** The text of a source line, when the file can be read (a path, or a file: URL). */
function lineReader(): (file: string, line: number) => string | undefined {
  const files = new Map<string, string[] | null>();
  return (file, line) => {
    let lines = files.get(file);
    if (lines === undefined) {
      try {
        lines = readFileSync(file.startsWith('file:') ? fileURLToPath(file) : file, 'utf8').split('\n');
      } catch {
        lines = null;
      }
      files.set(file, lines);
    }
    return lines?.[line - 1]?.trim();
  };
}

export interface FenceChangeJson {
  file: string;
  line: number;
  op: 'read' | 'write';
  routine: string | null;
  /** The source line as written. */
  text: string | null;
  kind: FenceChange['kind'];
  /** "→ WriteRelease", "KeMemoryBarrier() right before it". */
  change: string;
}

function changeJson(c: FenceChange, text: (file: string, line: number) => string | undefined): FenceChangeJson {
  return { file: c.site.file, line: c.site.line, op: c.site.op, routine: c.site.routine ?? null, text: text(c.site.file, c.site.line) ?? null, kind: c.kind, change: describeChange(c) };
}

function siteJson(s: FenceSite, text: (file: string, line: number) => string | undefined): object {
  return { file: s.file, line: s.line, op: s.op, order: s.order, routine: s.routine ?? null, involved: s.involved, text: text(s.file, s.line) ?? null };
}

/** The report as `--json` prints it (docs/fences.md). */
export function fencesJson(r: FenceReport, text: (file: string, line: number) => string | undefined): object {
  return {
    ...r,
    sites: r.sites.map((s) => siteJson(s, text)),
    suggestions: r.suggestions.map((s) => ({ changes: s.changes.map((c) => changeJson(c, text)), verifiedSchedules: s.verifiedSchedules })),
  };
}

const baseName = (file: string): string => file.replace(/^file:\/\//, '').split(/[\\/]/).pop() ?? file;

export function formatFences(r: FenceReport, text: (file: string, line: number) => string | undefined): string {
  const lines: string[] = [];
  const seeds = `seeds ${r.seeds.join(', ')}`;
  lines.push(`${r.scenario} on ${r.rig} — fence search: ${r.strategy}, ${r.budget} schedules per seed, ${seeds}, up to ${r.maxChanges} change${r.maxChanges === 1 ? '' : 's'}`);
  if (r.result === 'not-failing') {
    lines.push(`✓ no failure in ${r.schedulesRun} schedules: nothing to fix`);
    return lines.join('\n');
  }
  const f = r.failure!;
  lines.push(`✗ the failure (${f.kind}, seed ${f.seed}): ${f.message}`);
  if (f.schedule) lines.push(`  schedule: ${f.schedule}`);
  if (r.result === 'error') {
    lines.push('', 'the scenario itself is broken (outcome error): no ordering change can be judged');
    return lines.join('\n');
  }
  const involved = r.sites.filter((s) => s.involved).length;
  lines.push(`  ${r.sites.length} ordering-API access${r.sites.length === 1 ? '' : 'es'} in the failing run${involved > 0 ? ` (${involved} in its reorderings, tried first)` : ''}`);
  if (r.sites.length === 0) lines.push('  (the failure involves no ReadNoFence/WriteNoFence/volatile access: it is not an ordering bug this search can fix)');
  lines.push('');
  r.suggestions.forEach((s, i) => {
    lines.push(`Suggestion ${i + 1} — no failure in ${s.verifiedSchedules} schedules (${r.budget} for each of ${seeds}):`);
    for (const c of s.changes) {
      const t = text(c.site.file, c.site.line);
      lines.push(`  ${baseName(c.site.file)} line ${c.site.line}: ${t ?? `${c.site.routine ?? c.site.op}`} ${describeChange(c)}   (${changeKindText(c.kind)})`);
    }
  });
  const secs = (r.elapsedMs / 1000).toFixed(1);
  if (r.result === 'not-fixed' && r.sites.length > 0) lines.push(`no set of at most ${r.maxChanges} change${r.maxChanges === 1 ? '' : 's'} removes the failure (${r.tried} sets tried): a larger --max-changes, or the bug is not one of ordering`);
  if (r.result === 'stopped') lines.push('the search was stopped before it ended');
  lines.push(`${r.tried} change set${r.tried === 1 ? '' : 's'} tried, ${r.schedulesRun} schedules, ${secs} s`);
  return lines.join('\n');
}

export function fencesExitCode(r: FenceReport): number {
  return r.result === 'fixed' ? 0 : r.result === 'error' ? 2 : 1;
}

export async function fences(argv: string[], out: Out, err: Out): Promise<number> {
  const p = parseArgs('fences', argv, { rig: { value: true }, budget: { value: true }, 'max-changes': { value: true }, json: { value: false } });
  if (p.positional.length !== 1) throw new InputError(`'racebox fences' needs exactly one scenario id or file (got ${p.positional.length})`);
  const scenario = p.positional[0]!;
  const rigRef = stringOption(p, 'rig');
  if (!rigRef) throw new InputError(`'racebox fences' needs --rig <rig-id|file.json>`);
  const rig = loadRig(rigRef);
  const budget = intOption(p, 'budget', 1, 1_000_000, DEFAULT_FENCE_BUDGET);
  const maxChanges = intOption(p, 'max-changes', 1, 4, DEFAULT_MAX_CHANGES);
  const json = p.options.has('json');
  const showProgress = !json && process.stderr.isTTY === true;
  const report = await watched<FenceReport>(
    { kind: 'fences', scenario, rig, budget, maxChanges, heartbeat: new SharedArrayBuffer(8) },
    (m: WorkerMessage, done) => {
      if (m.type === 'fences') done(m.report);
      else if (m.type === 'progress' && showProgress) err(`  … ${m.schedulesRun} schedules`);
    },
    (why) => {
      if (why.beats === 0) throw new InputError(`cannot load scenario ${scenario}: ${why.message}`);
      throw new InputError(`the fence search stopped: ${why.message}`);
    },
  );
  const text = lineReader();
  out(json ? JSON.stringify(fencesJson(report, text)) : formatFences(report, text));
  return fencesExitCode(report);
}
