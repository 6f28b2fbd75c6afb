import { resolve } from 'node:path';
import { SPIN_READS } from '../../src/machine/machine.ts';
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { ScenarioError } from '../../src/machine/bugcheck.ts';
import { DISPATCH_LEVEL } from '../../src/machine/irql.ts';
import { defineScenario } from '../../src/scenario/define.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';
import keSpinlock from '../../scenarios/spinlock/ke-spinlock.ts';
import naiveTas from '../../scenarios/spinlock/naive-tas.ts';
import recursive from '../../scenarios/spinlock/recursive-acquire.ts';
import { CHECKED_MP, preset, rig, runOnce, scn } from '../helpers.ts';

describe('outcomes', () => {
  it('pass: a correct scenario explores its budget without failure', () => {
    const r = explore(preset('dual-opteron-240'), keSpinlock, { schedules: 200 });
    expect(r.outcome).toBe('pass');
    expect(r.failure).toBeUndefined();
    expect(r.schedulesRun).toBe(200);
    expect(r.steps).toBeGreaterThan(200);
    expect(r.scenario).toBe('spinlock/ke-spinlock');
    expect(r.rig).toBe('dual-opteron-240');
  });

  it('bugcheck: code, name, four parameters, CPU, routine, and every CPU with its IRQL and held locks', () => {
    const r = explore(preset('dual-opteron-240'), recursive, { schedules: 10 });
    expect(r.outcome).toBe('bugcheck');
    const f = r.failure!;
    expect(f.kind).toBe('bugcheck');
    expect(f.bugcheck).toMatchObject({ code: 0x0f, name: 'SPIN_LOCK_ALREADY_OWNED' });
    expect(f.bugcheck!.params).toHaveLength(4);
    expect(f.bugcheck!.meaning).toMatch(/recursive/);
    expect(f.cpu).toBe(0);
    expect(f.routine).toBe('receive in KeAcquireSpinLock');
    expect(f.schedule).toMatch(/^rb2\./);
    expect(f.cpus.map((c) => c.cpu)).toEqual([0, 1]);
    const cpu0 = f.cpus[0]!;
    expect(cpu0.irql).toBe(DISPATCH_LEVEL);
    expect(cpu0.irqlName).toBe('DISPATCH_LEVEL');
    expect(cpu0.thread).toBe('receive');
    expect(cpu0.stack[0]).toMatchObject({ kind: 'thread', name: 'receive', heldLocks: ['statsLock'], routineStack: ['KeAcquireSpinLock'] });
    const cpu1 = f.cpus[1]!;
    expect(typeof cpu1.irql).toBe('number');
    for (const c of f.cpus) for (const s of c.stack) expect(Array.isArray(s.heldLocks)).toBe(true);
  });

  it('deadlock: waits name who waits on what, and the failure CPU/routine agree', () => {
    const r = explore(preset('quad-free'), abba, { schedules: 2000 });
    expect(r.outcome).toBe('deadlock');
    const f = r.failure!;
    expect(f.kind).toBe('deadlock');
    expect(f.waits!.length).toBeGreaterThanOrEqual(2);
    expect(f.message).toMatch(/dispatch.*deviceLock.*completionDpc.*queueLock/s);
    expect(f.cpus).toHaveLength(4);
    // every context in the report holds one lock and spins on the other
    const spinning = f.cpus.flatMap((c) => c.stack).filter((s) => s.spinningOn);
    expect(spinning.map((s) => `${s.name}:${s.heldLocks.join()}→${s.spinningOn}`).sort()).toEqual([
      'completionDpc:deviceLock→queueLock',
      'dispatch:queueLock→deviceLock',
    ]);
    // the routine named is the one running on the CPU named
    const onCpu = f.cpus.find((c) => c.cpu === f.cpu)!;
    expect(onCpu.stack.length).toBeGreaterThan(0);
    expect(f.routine.split(' ')[0], `failure.cpu is ${f.cpu} but failure.routine is '${f.routine}'`).toBe(onCpu.stack[onCpu.stack.length - 1]!.name);
  });

  it('deadlock on one CPU: a DPC spinning on a lock its own thread holds (naive test-and-set)', () => {
    const r = explore(preset('uniprocessor'), naiveTas, { schedules: 500 });
    expect(r.outcome).toBe('deadlock');
    const w = r.failure!.waits!;
    expect(w.find((x) => x.context === 'completionDpc')!.state).toMatch(/spins on lock/);
    expect(w.find((x) => x.context === 'worker')!.state).toMatch(/preempted by dpc 'completionDpc'/);
  });

  it('hang: a context stuck on its own lock (free build recursion)', () => {
    const r = explore(preset('quad-free'), recursive, { schedules: 10 });
    expect(r.outcome).toBe('hang');
    expect(r.failure!.kind).toBe('hang');
    expect(r.failure!.waits!.length).toBeGreaterThan(0);
    expect(r.failure!.message).toMatch(/DPC_WATCHDOG_VIOLATION/);
  });

  it('invariant: names the invariant that failed', () => {
    const r = explore(preset('dual-opteron-240'), irqlAsLock, { schedules: 500 });
    expect(r.outcome).toBe('invariant');
    expect(r.failure!.invariant).toBe('no lost update');
    expect(r.failure!.message).toMatch(/counter is [12], expected 3/);
  });

  it('invariant: an end-of-run invariant failure names no source line in whoever called the engine', () => {
    const x = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { t: { *run() {} } }, invariants: { never: () => 'nope' } }));
    expect(x.outcome).toBe('invariant');
    const harness = [import.meta.filename, resolve(import.meta.dirname, '../helpers.ts')];
    expect(harness, `failure.source = ${JSON.stringify(x.failure!.source)}`).not.toContain(x.failure!.source?.file.replace(/^file:\/\//, ''));
  });

  it('invariant: NT_ASSERT in a routine stops the run at that point', () => {
    const x = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { t: { *run(k) { yield* k.YieldProcessor(); k.NT_ASSERT(false, 'boom'); } } } }));
    expect(x.outcome).toBe('invariant');
    expect(x.failure!.invariant).toBe('NT_ASSERT');
    expect(x.failure!.routine).toBe('t');
  });

  it('invariant returning false, and an invariant that throws is an error', () => {
    const bad = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { t: { *run() {} } }, invariants: { never: () => false } }));
    expect(bad.outcome).toBe('invariant');
    expect(bad.failure!.invariant).toBe('never');
    const throws = runOnce(CHECKED_MP, scn({
      setup: () => ({}),
      actors: { t: { *run() {} } },
      invariants: { broken: () => { throw new Error('oops'); } },
    }));
    expect(throws.outcome).toBe('error');
    expect(throws.failure!.message).toMatch(/invariant 'broken' threw Error: oops/);
  });

  it('error: a routine that throws is reported with the scenario and actor, not a crash', () => {
    const x = runOnce(CHECKED_MP, scn({
      id: 'test/throws',
      setup: () => ({}),
      actors: { worker: { *run(k) { yield* k.YieldProcessor(); throw new TypeError('kaboom'); } } },
    }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.kind).toBe('error');
    expect(x.failure!.message).toMatch(/scenario 'test\/throws': thread 'worker' threw TypeError: kaboom/);
  });

  it('error: an actor whose run is not a generator', () => {
    const x = runOnce(CHECKED_MP, scn({
      id: 'test/not-gen',
      setup: () => ({}),
      actors: { plain: { run: (() => 5) as never } },
    }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.message).toMatch(/actor 'plain' must be a generator function/);
  });

  it('error: setup that throws', () => {
    const x = runOnce(CHECKED_MP, scn({
      id: 'test/bad-setup',
      setup: () => { throw new RangeError('no device'); },
      actors: { t: { *run() {} } },
    }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.message).toMatch(/scenario 'test\/bad-setup': setup threw RangeError: no device/);
    expect(x.failure!.routine).toBe('setup');
  });

  it('error: a DPC routine that is not a function', () => {
    const x = runOnce(CHECKED_MP, scn({ setup: (k) => ({ d: k.KeInitializeDpc(5 as never) }), actors: { t: { *run() {} } } }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.message).toMatch(/KeInitializeDpc/);
  });

  it('defineScenario refuses an invalid scenario, naming it', () => {
    const base = { id: 'test/bad', title: 't', description: '', family: 'test', setup: () => ({}), actors: { t: { *run() {} } } };
    expect(() => defineScenario({ ...base, expect: 'passes' as never })).toThrow(ScenarioError);
    expect(() => defineScenario({ ...base, expect: 'passes' as never })).toThrow(/^scenario 'test\/bad': expect: "passes" is not an outcome/);
    expect(() => defineScenario({ ...base, expect: [] })).toThrow(/scenario 'test\/bad': expect needs at least one rule/);
    expect(() => defineScenario({ ...base, expect: [{ outcome: { bugcheck: 15 } as never }] })).toThrow(/scenario 'test\/bad'/);
    expect(() => defineScenario({ ...base, id: 'NoSlash', expect: 'pass' })).toThrow(/id must look like/);
    expect(() => defineScenario({ ...base, actors: {}, expect: 'pass' })).toThrow(/scenario 'test\/bad': actors must name at least one actor/);
    expect(() => defineScenario({ ...base, actors: { t: { irql: DISPATCH_LEVEL, *run() {} } }, expect: 'pass' })).toThrow(/actor 't': a thread starts at PASSIVE_LEVEL/);
    expect(() => defineScenario({ ...base, actors: { i: { kind: 'interrupt', *run() {} } as never }, expect: 'pass' })).toThrow(/actor 'i': an interrupt actor needs interrupt/);
    expect(() => defineScenario({ ...base, version: 0, expect: 'pass' })).toThrow(/version must be an integer/);
    expect(defineScenario({ ...base, expect: 'pass' }).version).toBe(1);
    // a typo must not turn into a rule that silently never (or always) matches
    expect(() => defineScenario({ ...base, expect: { bugcheck: 'SPIN_LOCK_ALREADY_OWNDE' } })).toThrow(/scenario 'test\/bad': expect: unknown bug check 'SPIN_LOCK_ALREADY_OWNDE'/);
    expect(() => defineScenario({ ...base, expect: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: '0x1001' as never } })).toThrow(/scenario 'test\/bad': expect: subcode/);
    expect(() => defineScenario({ ...base, expect: [{ when: { maxCPUs: 1 } as never, outcome: 'pass' }, { outcome: 'deadlock' }] })).toThrow(/scenario 'test\/bad': expect: when: 'maxCPUs' is not a rig selector/);
    expect(() => defineScenario({ ...base, expect: [{ when: { build: 'release' } as never, outcome: 'pass' }] })).toThrow(/scenario 'test\/bad': expect: when\.build/);
    expect(() => defineScenario({ ...base, expect: [{ when: { minCpus: '2' } as never, outcome: 'pass' }] })).toThrow(/scenario 'test\/bad': expect: when\.minCpus/);
    expect(defineScenario({ ...base, expect: [{ when: { rig: ['a', 'b'], hal: 'up', build: 'free', minCpus: 1, maxCpus: 4 }, outcome: 'pass' }] }).id).toBe('test/bad');
  });

  it('watchdog: a livelock that never blocks ends as hang after maxSteps', () => {
    const r = rig({ id: 'short', watchdog: { maxSteps: 500 } });
    const x = runOnce(r, scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'P') }),
      actors: {
        a: { cpu: 0, *run(k, s) { for (let i = 1; ; i++) yield* k.WriteNoFence(s.p, i); } },
        b: { cpu: 1, *run(k, s) { for (;;) yield* k.InterlockedIncrement(s.p); } },
      },
    }));
    expect(x.outcome).toBe('hang');
    expect(x.steps).toBe(500);
    expect(x.failure!.message).toMatch(/watchdog: the run did not finish within 500 steps/);
  });

  it('a scenario-level spin on a word nobody will write is reported as the spin it is, once the watchdog ends it', () => {
    const r = rig({ id: 'spin-wd', watchdog: { maxSteps: 3000 } });
    const x = runOnce(r, scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'P') }),
      actors: { waiter: { *run(k, s) { while ((yield* k.ReadNoFence(s.p)) === 0); } } },
    }));
    expect(x.outcome).toBe('hang');
    // A guess never ends a run by itself: the spin is resumed until the step watchdog, then named.
    expect(x.steps).toBeGreaterThanOrEqual(3000);
    expect(x.steps).toBeLessThan(3000 + 4 * SPIN_READS);
    expect(x.failure!.waits![0]!.state).toMatch(/spins on p/);
    expect(x.failure!.message).toMatch(/resumed \d+ times and read the same value again every time, for \d+ steps: past the 3000-step watchdog/);
  });

  it('free build: a CPU spinning at DISPATCH_LEVEL past the DPC watchdog is a hang naming 0x133', () => {
    const r = rig({ id: 'dpcwd', build: 'free', watchdog: { dpcTimeoutSteps: 100, maxSteps: 100000 } });
    const x = runOnce(r, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock(), p: k.ExAllocatePool2(0, 4, 'P') }),
      actors: {
        holder: { cpu: 0, *run(k, s) { yield* k.KeAcquireSpinLock(s.lock); for (let i = 1; ; i++) yield* k.WriteNoFence(s.p, i); } },
        waiter: { cpu: 1, *run(k, s) { yield* k.YieldProcessor(); yield* k.KeAcquireSpinLock(s.lock); } },
      },
    }));
    expect(x.outcome).toBe('hang');
    expect(x.failure!.message).toMatch(/DPC_WATCHDOG_VIOLATION \(0x133/);
    expect(x.steps).toBeLessThan(1000);
  });
});
