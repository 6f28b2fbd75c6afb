import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { CSQ_CONTEXT_IRP, IoCsqCancelRoutine } from '../../src/kernel/csq.ts';
import { IRP_CANCEL_ROUTINE, IRP_DRIVER_CONTEXT } from '../../src/kernel/irp.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { STATUS_CANCELLED, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS } from '../../src/kernel/status.ts';
import { CHECKED_MP, preset, runOnce, scn } from '../helpers.ts';

interface Q {
  head: number;
  lock: number;
  csq: number;
  irp1: number;
  irp2: number;
  ctx: number;
  log: string[];
}

function build(k: Kernel, ex = false): Q {
  const q: Q = { head: k.InitializeListHead(), lock: k.KeInitializeSpinLock(), csq: 0, irp1: k.IoAllocateIrp(), irp2: k.IoAllocateIrp(), ctx: k.ExAllocatePool2(0, 12, 'Ctx'), log: [] };
  function* insert(kk: Kernel, _c: number, irp: number) { q.log.push(`insert ${irp === q.irp1 ? 1 : 2}`); yield* kk.InsertTailList(q.head, kk.IrpListEntry(irp)); }
  function* insertEx(kk: Kernel, c: number, irp: number, insertContext: number) {
    if (insertContext === 99) return STATUS_INSUFFICIENT_RESOURCES;
    yield* insert(kk, c, irp);
    return STATUS_SUCCESS;
  }
  function* remove(kk: Kernel, _c: number, irp: number) { q.log.push(`remove ${irp === q.irp1 ? 1 : 2}`); yield* kk.RemoveEntryList(kk.IrpListEntry(irp)); }
  function* peek(kk: Kernel, _c: number, irp: number, _p: number) {
    const next = (yield* kk.ReadNoFence(irp === 0 ? q.head : kk.IrpListEntry(irp))) >>> 2;
    return next === q.head ? 0 : kk.IrpFromListEntry(next);
  }
  function* acquire(kk: Kernel, _c: number) { return yield* kk.KeAcquireSpinLock(q.lock); }
  function* release(kk: Kernel, _c: number, irql: number) { yield* kk.KeReleaseSpinLock(q.lock, irql); }
  function* complete(kk: Kernel, _c: number, irp: number) {
    q.log.push(`complete-canceled ${irp === q.irp1 ? 1 : 2} locks=${kk.ctx.heldLocks.length}`);
    yield* kk.IrpSetIoStatus(irp, STATUS_CANCELLED, 0);
    yield* kk.IoCompleteRequest(irp);
  }
  q.csq = ex ? k.IoCsqInitializeEx(null, insertEx, remove, peek, acquire, release, complete) : k.IoCsqInitialize(null, insert, remove, peek, acquire, release, complete);
  return q;
}

function once(body: (k: Kernel, q: Q) => Generator<number, unknown, void>, ex = false) {
  let q!: Q;
  const x = runOnce(CHECKED_MP, scn<Q>({ setup: (k) => (q = build(k, ex)), actors: { t: { *run(k, s) { yield* body(k, s); } } } }));
  return { x, log: () => q.log };
}

describe('IoCsq*', () => {
  it('insert queues first, then publishes the library cancel routine; RemoveNextIrp takes cancelability back', () => {
    const { x, log } = once(function* (k, q) {
      yield* k.IoCsqInsertIrp(q.csq, q.irp1, null);
      k.NT_ASSERT(k.peek(q.irp1 + IRP_CANCEL_ROUTINE) !== 0, 'cancelable while queued');
      k.NT_ASSERT(k.peek(q.irp1 + IRP_DRIVER_CONTEXT + 3) === q.csq * 4, 'DriverContext[3] = csq');
      const irp = yield* k.IoCsqRemoveNextIrp(q.csq, 0);
      k.NT_ASSERT(irp === q.irp1, 'got irp1');
      k.NT_ASSERT(k.peek(irp + IRP_CANCEL_ROUTINE) === 0 && k.peek(irp + IRP_DRIVER_CONTEXT + 3) === 0, 'not cancelable, context cleared');
      k.NT_ASSERT((yield* k.IoCsqRemoveNextIrp(q.csq, 0)) === 0, 'queue empty');
      yield* k.IoCompleteRequest(irp);
    });
    expect(x.failure?.message).toBeUndefined();
    expect(log()).toEqual(['insert 1', 'remove 1']);
  });

  it('inserting an IRP that was already cancelled completes it through CsqCompleteCanceledIrp, outside the queue lock', () => {
    const { x, log } = once(function* (k, q) {
      yield* k.IoCancelIrp(q.irp1); // no routine yet: only sets Cancel
      yield* k.IoCsqInsertIrp(q.csq, q.irp1, q.ctx);
      k.NT_ASSERT(k.IrpCompleted(q.irp1) && k.IrpStatus(q.irp1) === STATUS_CANCELLED, 'completed as cancelled');
      k.NT_ASSERT(k.peek(q.ctx + CSQ_CONTEXT_IRP) === 0, 'context cleared');
      k.NT_ASSERT(k.ListEntries(q.head).length === 0, 'not left queued');
      k.NT_ASSERT((yield* k.IoCsqRemoveIrp(q.csq, q.ctx)) === 0, 'RemoveIrp finds nothing');
    });
    expect(x.failure?.message).toBeUndefined();
    expect(log()).toEqual(['insert 1', 'remove 1', 'complete-canceled 1 locks=0']);
  });

  it('IoCancelIrp on a queued IRP runs the library cancel routine: unlink under the lock, complete outside it, clear the context', () => {
    const { x, log } = once(function* (k, q) {
      yield* k.IoCsqInsertIrp(q.csq, q.irp1, q.ctx);
      k.NT_ASSERT(k.peek(q.irp1 + IRP_CANCEL_ROUTINE) !== 0);
      k.NT_ASSERT((yield* k.IoCancelIrp(q.irp1)) === true);
      k.NT_ASSERT(k.IrpCompleted(q.irp1), 'completed');
      k.NT_ASSERT(k.peek(q.ctx + CSQ_CONTEXT_IRP) === 0, 'context cleared');
      k.NT_ASSERT((yield* k.IoCsqRemoveIrp(q.csq, q.ctx)) === 0, 'gone');
    });
    expect(x.failure?.message).toBeUndefined();
    expect(log()).toEqual(['insert 1', 'remove 1', 'complete-canceled 1 locks=0']);
  });

  it('IoCsqRemoveIrp returns the IRP of its context and makes it non-cancelable', () => {
    const { x } = once(function* (k, q) {
      yield* k.IoCsqInsertIrp(q.csq, q.irp1, null);
      yield* k.IoCsqInsertIrp(q.csq, q.irp2, q.ctx);
      k.NT_ASSERT((yield* k.IoCsqRemoveIrp(q.csq, q.ctx)) === q.irp2, 'irp2 by its context');
      k.NT_ASSERT(k.peek(q.irp2 + IRP_CANCEL_ROUTINE) === 0 && k.peek(q.ctx + CSQ_CONTEXT_IRP) === 0);
      k.NT_ASSERT(JSON.stringify(k.ListEntries(q.head)) === JSON.stringify([k.IrpListEntry(q.irp1)]), 'irp1 still queued');
      k.NT_ASSERT((yield* k.IoCancelIrp(q.irp2)) === false, 'cancel of the removed IRP finds no routine');
      yield* k.IoCompleteRequest(q.irp2);
      yield* k.IoCancelIrp(q.irp1);
    });
    expect(x.failure?.message).toBeUndefined();
  });

  it('RemoveNextIrp skips an IRP whose cancel routine has been claimed and returns the next one', () => {
    const { x } = once(function* (k, q) {
      yield* k.IoCsqInsertIrp(q.csq, q.irp1, null);
      yield* k.IoCsqInsertIrp(q.csq, q.irp2, null);
      k.NT_ASSERT((yield* k.IoSetCancelRoutine(q.irp1, null)) === IoCsqCancelRoutine, 'the library routine was set'); // as IoCancelIrp's C3 would
      k.NT_ASSERT((yield* k.IoCsqRemoveNextIrp(q.csq, 0)) === q.irp2, 'irp1 skipped');
      k.NT_ASSERT(k.ListEntries(q.head).length === 1, 'irp1 left queued for its cancel routine');
      k.NT_ASSERT((yield* k.IoCsqRemoveNextIrp(q.csq, 0)) === 0);
      yield* k.IoCompleteRequest(q.irp2);
      yield* k.IoCompleteRequest(q.irp1);
    });
    expect(x.failure?.message).toBeUndefined();
  });

  it('IoCsqInsertIrpEx: a failing CsqInsertIrpEx status is returned, the IRP is not queued and not cancelable', () => {
    const { x } = once(function* (k, q) {
      const st = yield* k.IoCsqInsertIrpEx(q.csq, q.irp1, null, 99);
      k.NT_ASSERT(st === STATUS_INSUFFICIENT_RESOURCES, `status ${st}`);
      k.NT_ASSERT(k.ListEntries(q.head).length === 0 && k.peek(q.irp1 + IRP_CANCEL_ROUTINE) === 0);
      k.NT_ASSERT((yield* k.IoCsqInsertIrpEx(q.csq, q.irp2, null, 0)) === STATUS_SUCCESS);
      yield* k.IrpSetIoStatus(q.irp1, STATUS_INSUFFICIENT_RESOURCES);
      yield* k.IoCompleteRequest(q.irp1);
      yield* k.IoCancelIrp(q.irp2);
    }, true);
    expect(x.failure?.message).toBeUndefined();
  });

  it('under every interleaving of insert, remove-next, remove-by-context and cancel, each IRP completes exactly once', () => {
    const r = explore(preset('quad-free'), scn<Q>({
      setup: (k) => build(k),
      actors: {
        d: { cpu: 0, *run(k, q) { yield* k.IoCsqInsertIrp(q.csq, q.irp1, null); yield* k.IoCsqInsertIrp(q.csq, q.irp2, q.ctx); } },
        w: { cpu: 1, *run(k, q) { const i = yield* k.IoCsqRemoveNextIrp(q.csq, 0); if (i) yield* k.IoCompleteRequest(i); } },
        t: { cpu: 2, *run(k, q) { const i = yield* k.IoCsqRemoveIrp(q.csq, q.ctx); if (i) yield* k.IoCompleteRequest(i); } },
        c: { cpu: 3, *run(k, q) { yield* k.IoCancelIrp(q.irp1); yield* k.IoCancelIrp(q.irp2); } },
      },
    }), { schedules: 400 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });
});
