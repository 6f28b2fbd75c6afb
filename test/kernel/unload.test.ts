import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { DelayedWorkQueue } from '../../src/kernel/workitem.ts';
import {
  DRIVER_IMAGE_END, DRIVER_IMAGE_START, driverState, driverUnloaded, registerUnloadCheck, unloadChecks,
} from '../../src/kernel/unload.ts';
import { BugCheck } from '../../src/machine/bugcheck.ts';
import { DISPATCH_LEVEL } from '../../src/machine/irql.ts';
import { defineScenario } from '../../src/scenario/define.ts';
import { CHECKED_MP, FREE_MP, runOnce, scn } from '../helpers.ts';

function* CountDpc(k: Kernel, _dpc: number, log: number) {
  yield* k.InterlockedIncrement(log);
}

interface S {
  dpc: number;
  timer: number;
  log: number;
}

const setup = (k: Kernel): S => {
  const log = k.ExAllocatePool2(0, 16, 'Log');
  const dpc = k.KeInitializeDpc(CountDpc, log, 'CountDpc');
  return { dpc, timer: k.KeInitializeTimer(null, 'T'), log };
};

describe('driver unload', () => {
  it('an actor option: unload must be a boolean, only on a thread, on one actor at most', () => {
    const base = { id: 'test/unload-opt', title: 't', description: '', family: 'test', expect: 'pass' as const, setup: () => ({}) };
    expect(() => defineScenario({ ...base, actors: { a: { unload: 1 as unknown as boolean, *run() {} } } })).toThrow(/unload must be true or false/);
    expect(() => defineScenario({ ...base, actors: { a: { kind: 'dpc', unload: true, *run() {} } as never } })).toThrow(/only a thread actor/);
    expect(() => defineScenario({ ...base, actors: { a: { unload: true, *run() {} }, b: { unload: true, *run() {} } } })).toThrow(/only one actor/);
  });

  it('a DPC still queued when DriverUnload returns: Verifier stops the unload with 0xC7 (2, routine, image); a free build runs it in the unloaded image: 0xCE', () => {
    const s = scn<S>({
      setup,
      actors: {
        unload: {
          cpu: 0,
          unload: true,
          *run(k, s) {
            // Queued to this CPU at DISPATCH_LEVEL: it runs only once the unload routine lowers IRQL… and returns.
            const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.KeInsertQueueDpc(s.dpc);
            yield* k.KeLowerIrql(old);
          },
        },
      },
    });
    // Lowering IRQL delivers the DPC before the routine returns: it runs in the loaded image.
    const first = runOnce(FREE_MP, s);
    expect(first.failure?.message).toBeUndefined();
    expect(first.outcome).toBe('pass');

    const late = scn<S>({
      setup,
      actors: {
        // CPU 0 is busy at DISPATCH_LEVEL until the unload has returned.
        busy: { cpu: 0, *run(k) { const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL); for (let i = 0; i < 6; i++) yield* k.YieldProcessor(); yield* k.KeLowerIrql(old); } },
        unload: { cpu: 1, unload: true, *run(k, s) { k.KeSetTargetProcessorDpc(s.dpc, 0); yield* k.KeInsertQueueDpc(s.dpc); } },
      },
    });
    const c = runOnce(CHECKED_MP, late);
    expect(c.failure?.bugcheck?.name).toBe('TIMER_OR_DPC_INVALID');
    const [p1, p2, p3, p4] = c.failure!.bugcheck!.params;
    expect(p1).toBe(2);
    expect(p2).toBeGreaterThan(DRIVER_IMAGE_START);
    expect(p2).toBeLessThan(DRIVER_IMAGE_END);
    expect([p3, p4]).toEqual([DRIVER_IMAGE_START, DRIVER_IMAGE_END]);
    const f = runOnce(FREE_MP, late);
    expect(f.failure?.bugcheck?.name).toBe('DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS');
    expect(f.failure?.message).toMatch(/DPC 'CountDpc' runs after the driver unloaded/);
    const q = f.failure!.bugcheck!.params;
    expect(q[0]).toBe(q[2]); // the address referenced is where the processor jumped
    expect(q[1]).toBe(0);
  });

  it('a timer still set at the end of a run in which the driver unloaded is 0xCE, named; cancelled, nothing is left', () => {
    const leftSet = scn<S>({ setup, actors: { unload: { unload: true, *run(k, s) { yield* k.KeSetTimer(s.timer, -100_000, s.dpc); } } } });
    const f = runOnce(FREE_MP, leftSet);
    expect(f.failure?.bugcheck?.code).toBe(0xce);
    expect(f.failure?.message).toMatch(/timer T was still set when the driver unloaded/);
    expect(runOnce(CHECKED_MP, leftSet).failure?.bugcheck?.code).toBe(0xc7);
    const cancelled = scn<S>({
      setup,
      actors: { unload: { unload: true, *run(k, s) { yield* k.KeSetTimer(s.timer, -100_000, s.dpc); yield* k.KeCancelTimer(s.timer); yield* k.KeFlushQueuedDpcs(); } } },
    });
    expect(runOnce(FREE_MP, cancelled).outcome).toBe('pass');
    expect(runOnce(CHECKED_MP, cancelled).outcome).toBe('pass');
  });

  it("a work item queued when DriverUnload returns defers the image's unload until its routine has returned", () => {
    const phases: string[] = [];
    const s = scn<S & { item: number }>({
      setup: (k) => ({ ...setup(k), item: k.IoAllocateWorkItem(k.ExAllocatePool2(0, 16, 'DevO')) }),
      actors: {
        unload: {
          unload: true,
          *run(k, s) {
            yield* k.IoQueueWorkItem(s.item, function* Late(k2: Kernel) {
              phases.push(`routine: unloaded=${driverUnloaded(k2)}`);
              // The driver's DPC, queued from the deferred routine, still runs in the loaded image.
              yield* k2.KeInsertQueueDpc(s.dpc);
            }, DelayedWorkQueue, 0);
          },
        },
      },
      invariants: {
        'unloaded at the end': (st, k) => {
          phases.push(`end: unloaded=${driverUnloaded(k)} refs=${driverState(k).references}`);
          return k.peek(st.log) === 1 || 'the DPC did not run';
        },
      },
    });
    const x = runOnce(FREE_MP, s);
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
    expect(phases).toEqual(['routine: unloaded=false', 'end: unloaded=true refs=0']);
  });

  it('a run stuck while a work item still holds the driver says so: the unload is named, not just the waiting thread', () => {
    const s = scn<S & { item: number; never: number }>({
      setup: (k) => ({ ...setup(k), item: k.IoAllocateWorkItem(k.ExAllocatePool2(0, 16, 'DevO')), never: k.KeInitializeEvent(0, false) }),
      actors: {
        unload: {
          unload: true,
          *run(k, s) {
            yield* k.IoQueueWorkItem(s.item, function* WaitsForever(k2: Kernel) { yield* k2.KeWaitForSingleObject(s.never, 0, 0, false, null); }, DelayedWorkQueue, 0);
          },
        },
      },
    });
    const x = runOnce(FREE_MP, s);
    expect(['hang', 'deadlock']).toContain(x.outcome);
    expect(x.failure?.message).toMatch(/DriverUnload \('unload'\) returned at step \d+, but the driver cannot unload: work item 'WaitsForever' still holds a reference/);
  });

  it('registerUnloadCheck adds a check that runs when the image unloads, after the ones registered before it', () => {
    const mine = (k: Kernel): BugCheck | null => (k.ext.has('test-leak') ? new BugCheck(0xc4, 0x62, 0, 0, 1, 'test: pool left at unload') : null);
    const before = unloadChecks().length;
    registerUnloadCheck(mine);
    registerUnloadCheck(mine);
    expect(unloadChecks().length).toBe(before + 1);
    expect(unloadChecks()[before]).toBe(mine);
    const s = scn<S>({ setup, actors: { unload: { unload: true, *run(k) { k.perRun('test-leak', () => 1); yield* k.YieldProcessor(); } } } });
    const x = runOnce(FREE_MP, s);
    expect(x.failure?.bugcheck?.params[0]).toBe(0x62);
    const clean = scn<S>({ setup, actors: { unload: { unload: true, *run(k) { yield* k.YieldProcessor(); } } } });
    expect(runOnce(FREE_MP, clean).outcome).toBe('pass');
  });
});
