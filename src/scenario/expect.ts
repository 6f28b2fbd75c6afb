/** Matching a scenario's declared expectations against a rig and an actual outcome. */
import { activeCpuCount, type Rig } from '../machine/rig.ts';
import type { ExpectRule, ExpectedOutcome, RigSelector, Scenario } from './define.ts';
import type { ObservedOutcome } from './outcome.ts';

export function selectorMatches(sel: RigSelector | undefined, rig: Rig): boolean {
  if (!sel) return true;
  if (sel.rig !== undefined && !(Array.isArray(sel.rig) ? sel.rig : [sel.rig]).includes(rig.id)) return false;
  if (sel.build !== undefined && sel.build !== rig.build) return false;
  if (sel.hal !== undefined && sel.hal !== rig.hal) return false;
  const cpus = activeCpuCount(rig);
  if (sel.minCpus !== undefined && cpus < sel.minCpus) return false;
  if (sel.maxCpus !== undefined && cpus > sel.maxCpus) return false;
  return true;
}

export function expectedOutcome(s: Pick<Scenario, 'expect'>, rig: Rig): ExpectedOutcome | undefined {
  const rules: ExpectRule[] = Array.isArray(s.expect) ? s.expect : [{ outcome: s.expect }];
  return rules.find((r) => selectorMatches(r.when, rig))?.outcome;
}

export function describeExpected(o: ExpectedOutcome): string {
  if (typeof o === 'string') return o;
  if ('bugcheck' in o) return `bugcheck ${o.bugcheck}${o.subcode !== undefined ? `/0x${o.subcode.toString(16)}` : ''}`;
  if ('liveness' in o) return `liveness '${o.liveness}'`;
  return `invariant '${o.invariant}'`;
}

/** Does an exploration's result satisfy the expectation? Returns null when it does, else why not. */
export function checkExpectation(o: ExpectedOutcome, r: ObservedOutcome): string | null {
  const got = r.failure ? describeFailure(r) : 'pass';
  if (o === 'pass') return r.outcome === 'pass' ? null : `expected pass, got ${got}`;
  if (r.outcome === 'pass') return `expected ${describeExpected(o)}, but ${r.schedulesRun} schedules found no failure`;
  if (o === 'deadlock' || o === 'hang') return r.outcome === o ? null : `expected ${o}, got ${got}`;
  if ('bugcheck' in o) {
    const b = r.failure?.bugcheck;
    if (r.outcome !== 'bugcheck' || !b || b.name !== o.bugcheck) return `expected bugcheck ${o.bugcheck}, got ${got}`;
    if (o.subcode !== undefined && b.params[0] !== o.subcode) return `expected ${o.bugcheck} subcode 0x${o.subcode.toString(16)}, got 0x${b.params[0]!.toString(16)}`;
    return null;
  }
  if ('liveness' in o) {
    const stuck = r.outcome === 'hang' || r.outcome === 'deadlock';
    return stuck && r.failure?.liveness?.name === o.liveness ? null : `expected liveness '${o.liveness}', got ${got}`;
  }
  return r.outcome === 'invariant' && r.failure?.invariant === o.invariant ? null : `expected invariant '${o.invariant}', got ${got}`;
}

export function describeFailure(r: ObservedOutcome): string {
  const f = r.failure;
  if (!f) return r.outcome;
  if (f.bugcheck) return `bugcheck ${f.bugcheck.name} (0x${f.bugcheck.code.toString(16).toUpperCase()}${f.bugcheck.code === 0xc4 ? `/0x${f.bugcheck.params[0]!.toString(16)}` : ''})`;
  if (f.invariant) return `invariant '${f.invariant}'`;
  if (f.liveness) return `${f.kind} (liveness '${f.liveness.name}')`;
  return f.kind;
}
