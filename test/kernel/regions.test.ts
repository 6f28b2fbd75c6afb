import { describe, expect, it } from 'vitest';
import { ControlledRun, type Execution } from '../../src/engine/controlled.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { defaultChoice, type Strategy } from '../../src/engine/strategy.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { presetRig } from '../../src/machine/presets.ts';
import type { Rig } from '../../src/machine/rig.ts';
import { defineScenario, type Actor } from '../../src/scenario/define.ts';

const DUAL = presetRig('dual-opteron-240')!;
const FREE = presetRig('quad-free')!;
const UP = presetRig('uniprocessor')!;

let serial = 0;
/**
 * One execution. Without `pick`, the engine's default choices (keep running the current CPU, else the lowest);
 * with it, `pick(state, choices)` may name the choice to take (a CPU number) at each decision.
 */
function run<S>(rig: Rig, setup: (k: Kernel) => S, actors: Record<string, Actor<S>>, pick?: (s: S, choices: number[]) => number | undefined): { x: Execution; s: S } {
  let state: S | undefined;
  const scenario = defineScenario<S>({
    id: `test/regions-${serial++}`, title: 't', description: '', family: 'test', expect: 'pass',
    setup: (k) => (state = setup(k)),
    actors,
  });
  const dfs = new DfsStrategy(0);
  const strategy: Strategy = pick
    ? {
        name: 'pick',
        newExecution: () => true,
        next: (choices, count, current) => {
          const arr = Array.from(choices.subarray(0, count));
          const c = pick(state!, arr);
          return c !== undefined && arr.includes(c) ? c : defaultChoice(choices, count, current);
        },
      }
    : dfs;
  strategy.newExecution(0);
  return { x: new ControlledRun(rig, scenario).execute(strategy), s: state! };
}

describe('critical and guarded regions', () => {
  it('nest: KeAreApcsDisabled until the outermost leave; a guarded region also disables special APCs', () => {
    const { x, s } = run(DUAL, () => ({ log: [] as string[] }), {
      t: { cpu: 0, *run(k, s) {
        s.log.push(`${k.KeAreApcsDisabled()}/${k.KeAreAllApcsDisabled()}`);
        yield* k.KeEnterCriticalRegion();
        yield* k.KeEnterCriticalRegion();
        s.log.push(`${k.KeAreApcsDisabled()}/${k.KeAreAllApcsDisabled()}`);
        yield* k.KeLeaveCriticalRegion();
        s.log.push(`${k.KeAreApcsDisabled()}`);
        yield* k.KeLeaveCriticalRegion();
        s.log.push(`${k.KeAreApcsDisabled()}`);
        yield* k.KeEnterGuardedRegion();
        s.log.push(`${k.KeAreApcsDisabled()}/${k.KeAreAllApcsDisabled()}`);
        yield* k.KeLeaveGuardedRegion();
        const old = yield* k.KeRaiseIrql(1);
        s.log.push(`apc level: ${k.KeAreApcsDisabled()}/${k.KeAreAllApcsDisabled()}`);
        yield* k.KeLowerIrql(old);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['false/false', 'true/false', 'true', 'false', 'true/true', 'apc level: false/true']);
  });

  it('leave without enter: checked 0xC4/0x3E at once; free build APC_INDEX_MISMATCH when the thread returns', () => {
    const body: Actor<object> = { cpu: 0, *run(k) { yield* k.KeLeaveCriticalRegion(); } };
    const checked = run(DUAL, () => ({}), { t: body }).x;
    expect(checked.failure?.bugcheck?.code).toBe(0xc4);
    expect(checked.failure?.bugcheck?.params[0]).toBe(0x3e);
    const free = run(FREE, () => ({}), { t: body }).x;
    expect(free.failure?.bugcheck?.name).toBe('APC_INDEX_MISMATCH');
  });

  it('enter without leave (critical or guarded) is APC_INDEX_MISMATCH at thread return, on every build', () => {
    for (const rig of [DUAL, FREE, UP]) {
      expect(run(rig, () => ({}), { t: { cpu: 0, *run(k) { yield* k.KeEnterCriticalRegion(); } } }).x.failure?.bugcheck?.name).toBe('APC_INDEX_MISMATCH');
      expect(run(rig, () => ({}), { t: { cpu: 0, *run(k) { yield* k.KeEnterGuardedRegion(); } } }).x.failure?.bugcheck?.name).toBe('APC_INDEX_MISMATCH');
    }
  });

  it('checked: entering a critical region above APC_LEVEL is 0xC4/0x11A', () => {
    const { x } = run(DUAL, (k) => ({ lock: k.KeInitializeSpinLock() }), {
      t: { cpu: 0, *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.KeEnterCriticalRegion();
        yield* k.KeLeaveCriticalRegion();
        yield* k.KeReleaseSpinLock(s.lock, old);
      } },
    });
    expect(x.failure?.bugcheck?.params[0]).toBe(0x11a);
  });
});

describe('suspend APCs', () => {
  it('a thread at PASSIVE_LEVEL outside any region stops at once and runs again only when resumed', () => {
    const { x, s } = run(DUAL, (k) => ({ counter: k.ExAllocatePool2(0, 4, 'Cnt'), log: [] as string[] }), {
      target: { cpu: 0, *run(k, s) {
        for (let i = 0; i < 6; i++) yield* k.WriteNoFence(s.counter, i + 1);
        s.log.push('target done');
      } },
      control: { cpu: 1, *run(k, s) {
        yield* k.NtSuspendThread('target');
        s.log.push('suspended');
        const a = yield* k.ReadNoFence(s.counter);
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.KeDelayExecutionThread(0, false, 0);
        const b = yield* k.ReadNoFence(s.counter);
        s.log.push(`counter unchanged: ${a === b}`);
        yield* k.NtResumeThread('target');
      } },
    }, (s) => (s.log.length === 0 ? 1 : 0)); // control first; from then on CPU 0 (the target) whenever it can run
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['suspended', 'counter unchanged: true', 'target done']);
  });

  /** The target is suspended from CPU 1 while it is inside a critical region on CPU 0 (step chosen by the strategy). */
  const suspendInRegion = (rig: Rig) =>
    run(rig, () => ({ log: [] as string[] }), {
      target: { cpu: 0, *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        s.log.push('in region');
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.KeDelayExecutionThread(0, false, 0);
        s.log.push('leaving');
        yield* k.KeLeaveCriticalRegion();
        s.log.push('after leave');
      } },
      control: { cpu: 1, *run(k, s) {
        yield* k.NtSuspendThread('target');
        s.log.push('suspend requested');
      } },
    }, (s) => (s.log.length === 1 ? 1 : undefined)); // run the control thread as soon as the target is in its region

  it('inside a critical region the suspension waits until KeLeaveCriticalRegion', () => {
    const { x, s } = suspendInRegion(DUAL);
    // Nobody resumes the target: it stops right at the leave, holding nothing.
    expect(x.outcome).toBe('hang');
    expect(x.failure!.message).toMatch(/target.*suspended/);
    expect(s.log).toEqual(['in region', 'suspend requested', 'leaving']);
  });

  it('without the critical region the same suspension stops the target where it is', () => {
    const { x, s } = run(DUAL, () => ({ log: [] as string[] }), {
      target: { cpu: 0, *run(k, s) {
        s.log.push('working');
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.KeDelayExecutionThread(0, false, 0);
        s.log.push('done');
      } },
      control: { cpu: 1, *run(k, s) {
        yield* k.NtSuspendThread('target');
        s.log.push('suspend requested');
      } },
    }, (s) => (s.log.length === 1 ? 1 : undefined));
    expect(x.outcome).toBe('hang');
    expect(s.log).toEqual(['working', 'suspend requested']);
  });

  it('a resume before delivery cancels the pending suspension', () => {
    const { x, s } = run(DUAL, () => ({ log: [] as string[] }), {
      target: { cpu: 0, *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        s.log.push('in region');
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.KeLeaveCriticalRegion();
        s.log.push('after leave');
      } },
      control: { cpu: 1, *run(k, s) {
        s.log.push(`count:${yield* k.NtSuspendThread('target')}`);
        s.log.push(`count:${yield* k.NtResumeThread('target')}`);
      } },
    }, (s) => (s.log.length === 1 || s.log.length === 2 ? 1 : undefined));
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['in region', 'count:0', 'count:1', 'after leave']);
  });
});
