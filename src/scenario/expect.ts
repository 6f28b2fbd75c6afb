/** Matching a scenario's declared expectations against a rig and an actual outcome. */
import { activeCpuCount, type Rig } from '../machine/rig.ts';
import type { BugCheckParam, ExpectRule, ExpectedOutcome, RigSelector, Scenario } from './define.ts';
import type { ObservedOutcome } from './outcome.ts';

export function selectorMatches(sel: RigSelector | undefined, rig: Rig): boolean {
  if (!sel) return true;
  if (sel.rig !== undefined && !(Array.isArray(sel.rig) ? sel.rig : [sel.rig]).includes(rig.id)) return false;
  if (sel.arch !== undefined && sel.arch !== rig.arch) return false;
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
  if ('bugcheck' in o) {
    const params = o.params?.some((p) => p !== null && p !== undefined)
      ? ` (${o.params.map((p, i) => `parameter ${i + 1} = ${typeof p === 'number' ? `0x${(p >>> 0).toString(16)}` : typeof p === 'function' ? 'an object from setup' : 'any'}`).join(', ')})`
      : '';
    return `bugcheck ${o.bugcheck}${o.subcode !== undefined ? `/0x${o.subcode.toString(16)}` : ''}${params}`;
  }
  if ('liveness' in o) return `liveness '${o.liveness}'`;
  return `invariant '${o.invariant}'`;
}

/**
 * Parameter `i` (0-based) an expectation wants, or undefined for any value. A function names an object
 * of `state` (the value setup returned): its word address, shown by a bug check as a pointer (× 4).
 */
function wantedParam(p: BugCheckParam, setupState: (() => unknown) | undefined, i: number): number | undefined | string {
  if (p === null || p === undefined) return undefined;
  if (typeof p === 'number') return p >>> 0;
  if (setupState === undefined) return `parameter ${i + 1} names an object from setup, but no setup state was given to check it against`;
  const a = p(setupState());
  if (typeof a !== 'number' || !Number.isInteger(a)) return `expect: params[${i}] returned ${JSON.stringify(a)}, not an address from setup`;
  return objectPointer(a);
}

/** An object's address from setup (a word address) as a bug-check parameter shows it: a pointer, × 4. */
export function objectPointer(address: number): number {
  return (address * 4) >>> 0;
}

/**
 * Does an exploration's result satisfy the expectation? Returns null when it does, else why not.
 * `setupState` gives what the scenario's setup returns on this rig (setup is deterministic, so any
 * run's will do); it is called only when an expected bug-check parameter names an object from setup.
 */
export function checkExpectation(o: ExpectedOutcome, r: ObservedOutcome, setupState?: () => unknown): string | null {
  const got = r.failure ? describeFailure(r) : 'pass';
  if (o === 'pass') return r.outcome === 'pass' ? null : `expected pass, got ${got}`;
  if (r.outcome === 'pass') return `expected ${describeExpected(o)}, but ${r.schedulesRun} schedules found no failure`;
  if (o === 'deadlock' || o === 'hang') return r.outcome === o ? null : `expected ${o}, got ${got}`;
  if ('bugcheck' in o) {
    const b = r.failure?.bugcheck;
    if (r.outcome !== 'bugcheck' || !b || b.name !== o.bugcheck) return `expected bugcheck ${o.bugcheck}, got ${got}`;
    if (o.subcode !== undefined && b.params[0] !== o.subcode) return `expected ${o.bugcheck} subcode 0x${o.subcode.toString(16)}, got 0x${b.params[0]!.toString(16)}`;
    const params = o.params ?? [];
    for (let i = 0; i < params.length && i < 4; i++) {
      const want = wantedParam(params[i], setupState, i);
      if (typeof want === 'string') return want;
      const got = (b.params[i] ?? 0) >>> 0;
      if (want !== undefined && got !== want) return `expected ${o.bugcheck} parameter ${i + 1} = 0x${want.toString(16)}, got 0x${got.toString(16)}`;
    }
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
