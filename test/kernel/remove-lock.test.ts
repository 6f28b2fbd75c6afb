import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { RL_IO_COUNT, RL_REMOVED } from '../../src/kernel/remove-lock.ts';
import { STATUS_DELETE_PENDING, STATUS_SUCCESS } from '../../src/kernel/status.ts';
import type { Routine } from '../../src/machine/ops.ts';
import { CHECKED_MP, FREE_MP, preset, runOnce, scn } from '../helpers.ts';

const DUAL = preset('dual-opteron-240');

function* spinUntil(k: Kernel, a: number, pred: (v: number) => boolean): Routine<void> {
  while (!pred(yield* k.ReadNoFence(a))) yield* k.YieldProcessor();
}

interface S {
  lock: number;
  flags: number;
}

const base = (k: Kernel): S => {
  const devExt = k.ExAllocatePool2(0, 64, 'DevX');
  return { lock: k.IoInitializeRemoveLock(devExt + 4), flags: k.ExAllocatePool2(0, 64, 'Flag') };
};

describe('IO_REMOVE_LOCK single-thread semantics', () => {
  it('starts with IoCount 1; acquire/release count; after the remove every acquire is STATUS_DELETE_PENDING and changes nothing', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: base,
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT(k.peek(s.lock + RL_IO_COUNT) === 1 && k.peek(s.lock + RL_REMOVED) === 0, 'initial state');
            k.NT_ASSERT((yield* k.IoAcquireRemoveLock(s.lock)) === STATUS_SUCCESS);
            k.NT_ASSERT((yield* k.IoAcquireRemoveLock(s.lock)) === STATUS_SUCCESS);
            k.NT_ASSERT(k.peek(s.lock + RL_IO_COUNT) === 3, `after two acquires: ${k.peek(s.lock + RL_IO_COUNT)}`);
            yield* k.IoReleaseRemoveLock(s.lock);
            k.NT_ASSERT(k.peek(s.lock + RL_IO_COUNT) === 2);
            yield* k.IoReleaseRemoveLockAndWait(s.lock); // holds one acquire: returns at once
            k.NT_ASSERT(k.peek(s.lock + RL_IO_COUNT) === 0 && k.peek(s.lock + RL_REMOVED) === 1, 'after the remove');
            k.NT_ASSERT((yield* k.IoAcquireRemoveLock(s.lock)) === STATUS_DELETE_PENDING, 'acquire after the remove');
            k.NT_ASSERT(k.peek(s.lock + RL_IO_COUNT) === 0, 'a failed acquire leaves the count');
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('checked build: IoReleaseRemoveLockAndWait without an acquire is an assertion failure (0x1E); a free build takes its release as the bias and returns', () => {
    const s = scn<S>({ setup: base, actors: { t: { *run(k, s) { yield* k.IoReleaseRemoveLockAndWait(s.lock); } } } });
    const c = runOnce(CHECKED_MP, s);
    expect(c.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(c.failure?.bugcheck?.params[0]).toBe(0xc0000420 | 0);
    const f = runOnce(FREE_MP, s);
    expect(f.outcome).toBe('pass'); // the own "release" dropped the bias: the count hit 0 and nothing waits
  });

  it('checked build: a release without an acquire past the bias is 0x1E', () => {
    const s = scn<S>({
      setup: base,
      actors: { t: { *run(k, s) { yield* k.IoReleaseRemoveLock(s.lock); yield* k.IoReleaseRemoveLock(s.lock); } } },
    });
    const c = runOnce(CHECKED_MP, s);
    expect(c.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(c.failure?.message).toMatch(/released more often/);
    expect(runOnce(FREE_MP, s).outcome).toBe('pass');
  });

  it('IRQL rules: acquire above DISPATCH_LEVEL and the wait above PASSIVE_LEVEL are 0x1E on a checked build', () => {
    const acquireHigh = scn<S>({
      setup: base,
      actors: { t: { *run(k, s) { const old = yield* k.KeRaiseIrql(5); yield* k.IoAcquireRemoveLock(s.lock); yield* k.KeLowerIrql(old); } } },
    });
    expect(runOnce(CHECKED_MP, acquireHigh).failure?.message).toMatch(/IoAcquireRemoveLock called at/);
    const waitApc = scn<S>({
      setup: base,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoAcquireRemoveLock(s.lock);
            const old = yield* k.KeRaiseIrql(1);
            yield* k.IoReleaseRemoveLockAndWait(s.lock);
            yield* k.KeLowerIrql(old);
          },
        },
      },
    });
    const c = runOnce(CHECKED_MP, waitApc);
    expect(c.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(c.failure?.message).toMatch(/IoReleaseRemoveLockAndWait called at APC_LEVEL/);
  });
});

describe('IO_REMOVE_LOCK under concurrency', () => {
  it('the wait returns only after every holder released; an acquire after the remove started fails', () => {
    // flags: +0 holder inside, +1 late done, +2 late result (1 success, 2 delete pending), +3 holder released, +4 remover done
    const r = explore(DUAL, scn<S>({
      setup: base,
      actors: {
        holder: {
          cpu: 0,
          *run(k, s) {
            k.NT_ASSERT((yield* k.IoAcquireRemoveLock(s.lock)) === STATUS_SUCCESS);
            yield* k.WriteNoFence(s.flags, 1);
            yield* spinUntil(k, s.flags + 1, (v) => v === 1);
            k.NT_ASSERT((yield* k.ReadNoFence(s.flags + 4)) === 0, 'the remover returned while a holder was inside');
            yield* k.WriteNoFence(s.flags + 3, 1);
            yield* k.IoReleaseRemoveLock(s.lock);
          },
        },
        remover: {
          cpu: 1,
          *run(k, s) {
            k.NT_ASSERT((yield* k.IoAcquireRemoveLock(s.lock)) === STATUS_SUCCESS);
            yield* spinUntil(k, s.flags, (v) => v === 1);
            yield* k.IoReleaseRemoveLockAndWait(s.lock);
            k.NT_ASSERT((yield* k.ReadNoFence(s.flags + 3)) === 1, 'the wait ended before the holder released');
            yield* k.WriteNoFence(s.flags + 4, 1);
          },
        },
        late: {
          cpu: 2,
          *run(k, s) {
            yield* spinUntil(k, s.lock + RL_REMOVED, (v) => v === 1);
            const status = yield* k.IoAcquireRemoveLock(s.lock);
            yield* k.WriteNoFence(s.flags + 2, status === STATUS_SUCCESS ? 1 : 2);
            if (status === STATUS_SUCCESS) yield* k.IoReleaseRemoveLock(s.lock);
            yield* k.WriteNoFence(s.flags + 1, 1);
          },
        },
      },
      invariants: {
        'late acquire failed': (s, k) => k.peek(s.flags + 2) === 2,
        'remover finished': (s, k) => k.peek(s.flags + 4) === 1,
        'count drained': (s, k) => k.peek(s.lock + RL_IO_COUNT) === 0,
      },
    }), { schedules: 300 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });

  it('a holder that never releases leaves the remover waiting forever', () => {
    const r = runOnce(FREE_MP, scn<S>({
      setup: base,
      actors: {
        t: {
          *run(k, s) {
            yield* k.IoAcquireRemoveLock(s.lock);
            yield* k.IoAcquireRemoveLock(s.lock); // leaked
            yield* k.IoReleaseRemoveLockAndWait(s.lock);
          },
        },
      },
    }));
    expect(['hang', 'deadlock']).toContain(r.outcome);
  });
});
