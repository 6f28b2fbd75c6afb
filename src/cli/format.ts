/** Human-readable output of the CLI (the --json forms print the objects themselves). */
import type { Failure, RunSummary } from '../engine/outcome.ts';
import { decodeSchedule } from '../engine/schedule.ts';
import { formatSite } from '../engine/source-site.ts';
import type { TraceStep } from '../engine/trace.ts';
import { activeCpuCount, logicalCpuCount, type Rig } from '../machine/rig.ts';

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

export function describeRig(rig: Rig): string {
  const logical = logicalCpuCount(rig);
  const active = activeCpuCount(rig);
  const cpus = active === logical ? `${logical} CPU${logical > 1 ? 's' : ''}` : `${active} of ${logical} CPUs`;
  return `${cpus}, ${rig.hal.toUpperCase()} HAL, ${rig.build} build`;
}

export function formatSummary(r: RunSummary, rig: Rig, replayCommand: (schedule: string) => string): string {
  const lines: string[] = [];
  const rate = r.elapsedMs > 0 ? Math.round((r.schedulesRun * 1000) / r.elapsedMs) : 0;
  const head = `${r.scenario} on ${r.rig} (${describeRig(rig)}) — ${r.strategy}${r.strategy === 'replay' ? '' : `, seed ${r.seed}`}`;
  lines.push(head);
  if (r.outcome === 'pass') {
    lines.push(
      `✓ no failure in ${r.schedulesRun} schedule${r.schedulesRun === 1 ? '' : 's'}${r.exhausted ? ' (every schedule within the bound)' : ''} — ${r.steps} steps, ${Math.round(r.elapsedMs)} ms, ${rate} schedules/s`,
    );
    return lines.join('\n');
  }
  const f = r.failure!;
  const by = f.foundBy !== undefined ? ` (found by ${f.foundBy})` : '';
  const where = r.strategy === 'replay' ? 'reproduced by the schedule' : `in schedule ${r.schedulesRun} of the search${by}`;
  lines.push(`✗ ${r.outcome} ${where} — ${r.steps} steps, ${Math.round(r.elapsedMs)} ms`);
  lines.push(...formatFailure(f));
  if (f.preemptions !== undefined && f.originalSteps !== undefined && f.schedule) {
    const p = (n: number | undefined): string => `${n ?? '?'} preemption${n === 1 ? '' : 's'}`;
    const steps = decodeSchedule(f.schedule).steps;
    const found = f.originalSchedule !== undefined ? ` (as the search found it: ${p(f.originalPreemptions)}, ${f.originalSteps} steps)` : ' (as the search found it)';
    lines.push('', `  smallest schedule: ${p(f.preemptions)}, ${steps} steps${found}`);
  }
  if (f.schedule) lines.push('', `replay: ${replayCommand(f.schedule)}`);
  return lines.join('\n');
}

export function formatFailure(f: Failure): string[] {
  const lines: string[] = [];
  if (f.bugcheck) {
    const b = f.bugcheck;
    lines.push('', `  *** STOP: ${hex(b.code)} (${b.params.map(hex).join(', ')})`, `  ${b.name}`);
    if (b.meaning) lines.push(`  ${b.meaning}`);
    if (b.subcodeMeaning) lines.push(`  Parameter 1 = ${hex(b.params[0]!)}: ${b.subcodeMeaning}`);
  }
  lines.push('', `  ${f.message}`);
  if (f.routine) lines.push(`  at step ${f.step + 1} on CPU ${f.cpu}, in ${f.routine}${f.source ? ` (${formatSite(f.source)})` : ''}`);
  if (f.reorderings !== undefined && f.reorderings.length > 0) {
    lines.push('', `  It needed ${f.reorderings.length === 1 ? 'a reordering' : `${f.reorderings.length} reorderings`} of memory accesses:`);
    for (const r of f.reorderings) lines.push(`    - ${r}`);
  }
  if (f.cpus.length > 0) lines.push('');
  for (const c of f.cpus) {
    const stack = c.stack.length === 0 ? 'idle' : c.stack.map((x) => {
      const api = x.routineStack.length ? ` [${x.routineStack.join(' > ')}]` : '';
      const held = x.heldLocks.length ? ` holds ${x.heldLocks.join(', ')}` : '';
      const spin = x.spinningOn ? ` spins on ${x.spinningOn}` : '';
      return `${x.kind} ${x.name}${api}${held}${spin}`;
    }).join('  ▸  ');
    lines.push(`  CPU ${c.cpu}  ${c.irqlName.padEnd(15)} ${stack}${c.readyThreads.length ? `  (ready: ${c.readyThreads.join(', ')})` : ''}${c.waitingThreads?.length ? `  (waiting: ${c.waitingThreads.join(', ')})` : ''}`);
  }
  return lines;
}

/** What a memory step read and wrote: `read 0`, `wrote 1`, `0 → 1` for an interlocked operation. */
export function formatValues(t: TraceStep): string {
  if (t.fault) return ' (faults)';
  if (t.read !== undefined && t.wrote !== undefined) return ` ${t.read} → ${t.wrote}`;
  if (t.read !== undefined) return ` read ${t.read}`;
  if (t.wrote !== undefined) return ` wrote ${t.wrote}`;
  return '';
}

/** A weak-memory step: a store kept in the store buffer, a read of an older value. */
function weakNote(t: TraceStep): string {
  if (t.buffered) return `  (buffered${t.visibleAt !== undefined ? `; visible at #${t.visibleAt}` : ''})`;
  if (t.stale) return `  (an older value: the newest, ${t.stale.newest}, was stored at #${t.stale.newestStep} by CPU ${t.stale.newestCpu})`;
  return '';
}

export function formatTrace(trace: TraceStep[]): string {
  return trace
    .map((t) => {
      const where = t.what === 'step' ? `${t.kind} ${t.context}` : t.what === 'quantum' ? `quantum end (${t.context})` : t.what === 'flush' ? 'store buffer' : `${t.context} arrives`;
      const op = t.what === 'step'
        ? `${t.op}${t.address ? ` ${t.address}` : ''}${formatValues(t)}${weakNote(t)}${t.routine !== t.context ? `  in ${t.routine}` : ''}${t.source ? `  ${formatSite(t.source)}` : ''}` +
          (t.held ? `  → holds ${t.held.length > 0 ? t.held.join(', ') : 'nothing'}` : '')
        : t.what === 'flush'
          ? `flush ${t.address ?? ''}${t.wrote !== undefined ? ` = ${t.wrote}` : ''}${t.storedAt !== undefined ? ` (stored at #${t.storedAt}) becomes visible` : ' becomes visible'}`
          : '';
      return `#${String(t.step).padStart(5)}  CPU ${t.cpu}  IRQL ${t.irql}  ${where.padEnd(28)} ${op}`;
    })
    .join('\n');
}
