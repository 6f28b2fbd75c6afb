import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { CriticalWorkQueue, DelayedWorkQueue, WI_QUEUED } from '../../src/kernel/workitem.ts';
import { DISPATCH_LEVEL, HIGH_LEVEL, PASSIVE_LEVEL } from '../../src/machine/irql.ts';
import { CHECKED_MP, FREE_MP, preset, runOnce, scn } from '../helpers.ts';

const QUAD = preset('quad-free');

interface S {
  device: number;
  item: number;
  log: number;
}

const setup = (k: Kernel): S => {
  const device = k.ExAllocatePool2(0, 64, 'DevO');
  return { device, item: k.IoAllocateWorkItem(device), log: k.ExAllocatePool2(0, 32, 'Log') };
};

/** Logs (IRQL + 1, device, context, the worker's CPU + 1, whether it runs in a thread) into the context's log. */
function* Record(k: Kernel, deviceObject: number, log: number) {
  yield* k.WriteNoFence(log, k.KeGetCurrentIrql() + 1);
  yield* k.WriteNoFence(log + 1, deviceObject);
  yield* k.WriteNoFence(log + 2, k.KeGetCurrentProcessorNumber() + 1);
  yield* k.WriteNoFence(log + 3, k.ctx.kind === 'thread' ? 1 : 0);
}

describe('IO_WORKITEM', () => {
  it('IoQueueWorkItem: a system worker thread calls the routine at PASSIVE_LEVEL with the device object and context', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL); // queuing is allowed up to DISPATCH_LEVEL
            yield* k.IoQueueWorkItem(s.item, Record, DelayedWorkQueue, s.log);
            k.NT_ASSERT(k.peek(s.item + WI_QUEUED) === 1, 'queued');
            yield* k.KeLowerIrql(old);
          },
        },
      },
      invariants: {
        'ran at PASSIVE_LEVEL in a thread': (s, k) =>
          (k.peek(s.log) === PASSIVE_LEVEL + 1 && k.peek(s.log + 1) === s.device && k.peek(s.log + 3) === 1 && k.peek(s.item + WI_QUEUED) === 0) ||
          `log ${[0, 1, 2, 3].map((i) => k.peek(s.log + i)).join(',')}`,
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('IoQueueWorkItemEx passes the work item too, and the routine may free it (the system dequeued it first)', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoQueueWorkItemEx(s.item, function* FreeSelf(k2: Kernel, ioObject: number, context: number, item: number) {
              yield* k2.WriteNoFence(context, ioObject === s.device && item === s.item ? 1 : 2);
              yield* k2.IoFreeWorkItem(item);
            }, CriticalWorkQueue, s.log);
          },
        },
      },
      invariants: { 'got the item': (s, k) => k.peek(s.log) === 1 || `log ${k.peek(s.log)}` },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('the strategy picks when and on which processor a worker thread runs the item', () => {
    const cpus = new Set<number>();
    let ranBeforeQueuerEnded = false;
    const s = scn<S & { done: number }>({
      setup: (k) => ({ ...setup(k), done: k.ExAllocatePool2(0, 4, 'Done') }),
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            yield* k.IoQueueWorkItem(s.item, Record, DelayedWorkQueue, s.log);
            yield* k.YieldProcessor();
            if (k.peek(s.log + 2) !== 0) ranBeforeQueuerEnded = true;
            yield* k.WriteNoFence(s.done, 1);
          },
        },
      },
      invariants: { ran: (st, k) => { cpus.add(k.peek(st.log + 2) - 1); return k.peek(st.log) === 1 || 'the routine did not run'; } },
    });
    const r = explore(QUAD, s, { strategy: 'random', seed: 4, schedules: 200 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
    expect(cpus.size).toBeGreaterThan(1);
    expect(ranBeforeQueuerEnded).toBe(true);
  });

  it('a routine that returns at DISPATCH_LEVEL is WORKER_THREAD_RETURNED_AT_BAD_IRQL (0xE1), with the IRQL in parameter 2', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoQueueWorkItem(s.item, function* LeaksIrql(k2: Kernel) { yield* k2.KeRaiseIrql(DISPATCH_LEVEL); }, DelayedWorkQueue, 0);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.name).toBe('WORKER_THREAD_RETURNED_AT_BAD_IRQL');
    expect(x.failure?.bugcheck?.params[1]).toBe(DISPATCH_LEVEL);
  });

  it('IRQL: queuing above DISPATCH_LEVEL is 0xC4/0xE5 on a checked build', () => {
    const s = scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            const old = yield* k.KeRaiseIrql(HIGH_LEVEL);
            yield* k.IoQueueWorkItem(s.item, Record, DelayedWorkQueue, s.log);
            yield* k.KeLowerIrql(old);
          },
        },
      },
    });
    const c = runOnce(CHECKED_MP, s);
    expect(c.failure?.bugcheck?.params[0]).toBe(0xe5);
    expect(c.failure?.message).toMatch(/IoQueueWorkItem called at HIGH_LEVEL/);
    expect(runOnce(FREE_MP, s).outcome).toBe('pass');
  });

  it('queuing an item that is still queued corrupts the work queue (0x139, parameter 1 = 3)', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoQueueWorkItem(s.item, Record, DelayedWorkQueue, s.log);
            yield* k.IoQueueWorkItem(s.item, Record, DelayedWorkQueue, s.log);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.code).toBe(0x139);
    expect(x.failure?.bugcheck?.params[0]).toBe(3);
  });

  it('IoFreeWorkItem on a queued item: the worker thread reads freed pool when it takes it (checked build: 0xD5)', () => {
    const s = scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoQueueWorkItem(s.item, Record, DelayedWorkQueue, s.log);
            yield* k.IoFreeWorkItem(s.item);
          },
        },
      },
    });
    expect(runOnce(CHECKED_MP, s).failure?.bugcheck?.name).toBe('DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL');
    expect(runOnce(FREE_MP, s).outcome).toBe('pass');
  });

  it('a bad QueueType is a scenario error', () => {
    const x = runOnce(FREE_MP, scn<S>({ setup, actors: { t: { *run(k, s) { yield* k.IoQueueWorkItem(s.item, Record, 7, 0); } } } }));
    expect(x.outcome).toBe('error');
    expect(x.failure?.message).toMatch(/QueueType must be DelayedWorkQueue/);
  });
});
