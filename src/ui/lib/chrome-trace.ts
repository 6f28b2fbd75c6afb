/**
 * Export of a replayed run as Chrome Trace Event JSON (opens in Perfetto and
 * chrome://tracing): one thread per logical CPU, a complete event ("X") per
 * slice of a context/routine, an IRQL counter ("C") per CPU, lock holds as
 * slices on a lock track, instants ("i") for arrivals, quantum ends and the
 * failure. One scheduling step is drawn as one microsecond, the format's own
 * timestamp unit, so no displayTimeUnit is set: "ns" made a step read 1,000 ns.
 */
import type { RunSummary } from '../../engine/outcome.ts';
import { irqlName } from '../../machine/irql.ts';
import type { TimelineModel } from './trace-model.ts';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  s?: 'g' | 'p' | 't';
  cat?: string;
  args?: Record<string, unknown>;
}

export function toChromeTrace(model: TimelineModel, summary: RunSummary): { traceEvents: TraceEvent[]; metadata: Record<string, unknown> } {
  const pid = 1;
  const ev: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name: `${summary.scenario} on ${summary.rig}` } },
  ];
  for (let c = 0; c < model.cpus; c++) {
    ev.push({ name: 'thread_name', ph: 'M', pid, tid: c, ts: 0, args: { name: `CPU ${c}` } });
    ev.push({ name: 'thread_sort_index', ph: 'M', pid, tid: c, ts: 0, args: { sort_index: c } });
  }
  for (const s of model.slices) {
    ev.push({
      name: s.routine === s.context ? s.context : `${s.context}: ${s.routine}`,
      cat: s.kind,
      ph: 'X', pid, tid: s.cpu, ts: s.from, dur: Math.max(1, s.to - s.from),
      args: { context: s.context, kind: s.kind, routine: s.routine, firstStep: model.steps[s.from]?.step },
    });
  }
  for (const b of model.irql) {
    ev.push({ name: `CPU ${b.cpu} IRQL`, ph: 'C', pid, tid: b.cpu, ts: b.from, args: { irql: b.irql } });
  }
  for (const h of model.locks) {
    ev.push({ name: `holds ${h.lock}`, cat: 'lock', ph: 'X', pid, tid: 100 + h.cpu, ts: h.from, dur: Math.max(1, h.to - h.from), args: { lock: h.lock, cpu: h.cpu, context: h.context } });
  }
  for (let c = 0; c < model.cpus; c++) {
    if (model.locks.some((h) => h.cpu === c)) ev.push({ name: 'thread_name', ph: 'M', pid, tid: 100 + c, ts: 0, args: { name: `CPU ${c} locks` } });
  }
  for (const m of model.markers) {
    const f = summary.failure;
    const label = m.kind === 'failure' && f ? (f.bugcheck ? `${f.bugcheck.name} (0x${f.bugcheck.code.toString(16).toUpperCase()})` : f.kind) : m.label;
    ev.push({ name: label, cat: m.kind, ph: 'i', s: m.kind === 'failure' ? 'g' : 't', pid, tid: m.cpu, ts: m.at, args: m.kind === 'failure' && f ? { message: f.message } : {} });
  }
  return {
    traceEvents: ev,
    metadata: {
      'racebox-scenario': summary.scenario,
      'racebox-rig': summary.rig,
      'racebox-outcome': summary.outcome,
      'racebox-schedule': summary.failure?.schedule,
      'time-unit': '1 µs = 1 scheduling step',
      irqlNames: Object.fromEntries([0, 1, 2, 12, 13, 14, 15].map((i) => [i, irqlName(i)])),
    },
  };
}
