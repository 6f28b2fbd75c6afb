/**
 * `racebox litmus [--arch x64|arm64] [--json]`: the litmus conformance table (docs/litmus.md).
 * Exit: 0 conformant, 1 a forbidden outcome seen, an allowed one missing or a test that could not
 * be explored completely, 2 bad input.
 */
import { ARCHES, LOAD_STORE_REASON, type Arch } from '../engine/litmus/catalogue.ts';
import { runLitmus, type LitmusReport, type LitmusRow } from '../engine/litmus/run.ts';
import { InputError } from '../workers/node-load.ts';
import { choiceOption, parseArgs } from './args.ts';

export const LITMUS_USAGE = `usage: racebox litmus [--arch x64|arm64] [--json]
  Runs the classic litmus tests (SB, MP and its fixes, LB, S, R, 2+2W, WRC, IRIW, ISA2, coherence)
  exhaustively — every interleaving and every store buffering, flush and older value the rig's memory
  model offers — and checks each final outcome against the published model: x86-TSO for x64, ARMv8
  (Pulte et al. 2018, herdtools7 aarch64.cat) for arm64. Both architectures unless --arch.
  --json   one object: { conformant, notExploredReason, architectures: [{ arch, model, rig, conformant,
           executions, elapsedMs, tests: [{ name, shape, executions, complete, error?, conformant,
           sources, outcomes: [{ outcome, expected, observed, count, ok }] }] }] } (docs/litmus.md)
  Exit: 0 conformant, 1 a forbidden outcome seen or an allowed one missing (or a test whose search
  did not finish), 2 bad input.`;

const MODEL: Record<Arch, string> = { x64: 'x86-TSO', arm64: 'ARMv8' };

const EXPECTED_TEXT: Record<LitmusRow['expected'], string> = {
  allowed: 'allowed',
  forbidden: 'forbidden',
  'not-explored': 'allowed, not explored',
  unlisted: 'not in the table',
};

function verdictOf(r: LitmusRow, complete: boolean): string {
  if (r.ok) return r.expected === 'not-explored' ? 'ok (not explored*)' : 'ok';
  switch (r.expected) {
    case 'allowed':
      return complete ? 'MISSING' : 'not seen (search incomplete)';
    case 'forbidden':
      return 'FORBIDDEN OUTCOME SEEN';
    case 'not-explored':
      return 'SEEN (thought unexplorable)';
    case 'unlisted':
      return 'UNKNOWN OUTCOME';
  }
}

function formatReport(report: LitmusReport): string[] {
  const lines: string[] = [];
  const executions = report.tests.reduce((n, t) => n + t.executions, 0);
  lines.push(`${report.arch} (${MODEL[report.arch]}) on ${report.rig.id}: ${report.tests.length} tests, ${executions} executions, ${report.elapsedMs} ms`);
  const rows = report.tests.flatMap((t) => t.rows.map((r) => ({ test: t.name, r })));
  const w = {
    test: Math.max(4, ...report.tests.map((t) => t.name.length)),
    outcome: Math.max(7, ...rows.map((x) => x.r.outcome.length)),
    expected: Math.max(8, ...rows.map((x) => EXPECTED_TEXT[x.r.expected].length)),
  };
  lines.push(`  ${'test'.padEnd(w.test)}  ${'outcome'.padEnd(w.outcome)}  ${'expected'.padEnd(w.expected)}  observed  verdict`);
  for (const t of report.tests) {
    // The test's name on every row: a CI log is read with grep.
    t.rows.forEach((r) => {
      const observed = r.observed ? `yes ${r.count}` : 'no';
      lines.push(`  ${t.name.padEnd(w.test)}  ${r.outcome.padEnd(w.outcome)}  ${EXPECTED_TEXT[r.expected].padEnd(w.expected)}  ${observed.padEnd(8)}  ${verdictOf(r, t.complete)}`);
    });
    if (t.error !== undefined) lines.push(`  ${''.padEnd(w.test)}  ✗ ${t.error}`);
  }
  const bad = report.tests.filter((t) => !t.conformant).map((t) => t.name);
  lines.push(report.conformant ? `✓ ${report.arch}: conformant` : `✗ ${report.arch}: NOT conformant (${bad.join(', ')})`);
  return lines;
}

export async function litmus(argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs('litmus', argv, { arch: { value: true }, json: { value: false } });
  if (p.positional.length > 0) throw new InputError(`'racebox litmus' takes no arguments (got ${p.positional.join(' ')})`);
  const arches: readonly Arch[] = p.options.has('arch') ? [choiceOption(p, 'arch', ARCHES, 'x64')] : ARCHES;
  const reports = arches.map((a) => runLitmus(a));
  const conformant = reports.every((r) => r.conformant);
  if (p.options.has('json')) {
    out(JSON.stringify({
      conformant,
      notExploredReason: LOAD_STORE_REASON,
      architectures: reports.map((r) => ({
        arch: r.arch,
        model: MODEL[r.arch],
        rig: r.rig.id,
        conformant: r.conformant,
        executions: r.tests.reduce((n, t) => n + t.executions, 0),
        elapsedMs: r.elapsedMs,
        tests: r.tests.map((t) => ({
          name: t.name, shape: t.shape, executions: t.executions, complete: t.complete,
          ...(t.error !== undefined ? { error: t.error } : {}),
          conformant: t.conformant, sources: t.sources, outcomes: t.rows,
        })),
      })),
    }));
  } else {
    reports.forEach((r, i) => {
      if (i > 0) out('');
      for (const l of formatReport(r)) out(l);
    });
    if (reports.some((r) => r.tests.some((t) => t.rows.some((x) => x.expected === 'not-explored')))) {
      out('');
      out(`* allowed by the model, not explored by Racebox: the outcome ${LOAD_STORE_REASON}.`);
    }
  }
  return conformant ? 0 : 1;
}
