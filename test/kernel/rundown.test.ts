import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { WAIT_BLOCK_COUNT } from '../../src/kernel/rundown.ts';
import type { Routine } from '../../src/machine/ops.ts';
import { CHECKED_MP, FREE_MP, preset, runOnce, scn } from '../helpers.ts';

const DUAL = preset('dual-opteron-240');

function* spinUntil(k: Kernel, a: number, pred: (v: number) => boolean): Routine<void> {
  while (!pred(yield* k.ReadNoFence(a))) yield* k.YieldProcessor();
}

interface S {
  ref: number;
  flags: number;
}

const base = (k: Kernel): S => ({ ref: k.ExInitializeRundownProtection(), flags: k.ExAllocatePool2(0, 64, 'Flag') });

describe('EX_RUNDOWN_REF encoding and single-thread semantics', () => {
  it('acquire adds 2, release subtracts 2; Ex variants add and subtract 2n; wait with nobody inside leaves 1', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: base,
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT(yield* k.ExAcquireRundownProtection(s.ref));
            k.NT_ASSERT(k.peek(s.ref) === 2, `after one acquire: ${k.peek(s.ref)}`);
            k.NT_ASSERT(yield* k.ExAcquireRundownProtectionEx(s.ref, 3));
            k.NT_ASSERT(k.peek(s.ref) === 8, `after Ex(3): ${k.peek(s.ref)}`);
            yield* k.ExReleaseRundownProtectionEx(s.ref, 3);
            yield* k.ExReleaseRundownProtection(s.ref);
            k.NT_ASSERT(k.peek(s.ref) === 0, `after releases: ${k.peek(s.ref)}`);
            yield* k.ExWaitForRundownProtectionRelease(s.ref);
            k.NT_ASSERT(k.peek(s.ref) === 1, `after wait: ${k.peek(s.ref)}`);
            k.NT_ASSERT(!(yield* k.ExAcquireRundownProtection(s.ref)), 'acquire after rundown must fail');
            k.NT_ASSERT(!(yield* k.ExAcquireRundownProtectionEx(s.ref, 2)), 'Ex acquire after rundown must fail');
            k.NT_ASSERT(k.peek(s.ref) === 1, 'a failed acquire does not change the word');
            yield* k.ExWaitForRundownProtectionRelease(s.ref); // already run down: returns at once
            yield* k.ExRundownCompleted(s.ref);
            k.NT_ASSERT(k.peek(s.ref) === 1);
            yield* k.ExReInitializeRundownProtection(s.ref);
            k.NT_ASSERT(k.peek(s.ref) === 0);
            k.NT_ASSERT(yield* k.ExAcquireRundownProtection(s.ref), 'usable again after re-initialization');
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('checked build: ExReInitializeRundownProtection without a rundown is an assertion failure (0x1E); free build lets it pass', () => {
    const s = scn<S>({ setup: base, actors: { t: { *run(k, s) { yield* k.ExReInitializeRundownProtection(s.ref); } } } });
    const c = runOnce(CHECKED_MP, s);
    expect(c.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(c.failure?.bugcheck?.params[0]).toBe(0xc0000420 | 0);
    expect(runOnce(FREE_MP, s).outcome).toBe('pass');
  });

  it('a release after a completed rundown dereferences the NULL wait block', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup: base,
      actors: { t: { *run(k, s) { yield* k.ExWaitForRundownProtectionRelease(s.ref); yield* k.ExReleaseRundownProtection(s.ref); } } },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure?.bugcheck?.name).toBe('PAGE_FAULT_IN_NONPAGED_AREA');
  });

  it('a release without an acquire wraps the count and the owner waits forever (hang at unload)', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup: base,
      actors: { t: { *run(k, s) { yield* k.ExReleaseRundownProtection(s.ref); yield* k.ExWaitForRundownProtectionRelease(s.ref); } } },
    }));
    expect(['hang', 'deadlock']).toContain(x.outcome);
  });

  it('waiting for rundown from a DPC: PAGED_CODE assertion on a checked build, ATTEMPTED_SWITCH_FROM_DPC on a free one', () => {
    const s = scn<S>({
      setup: base,
      actors: {
        holder: { cpu: 0, *run(k, s) { k.NT_ASSERT(yield* k.ExAcquireRundownProtection(s.ref)); yield* k.WriteNoFence(s.flags, 1); } },
        dpc: { kind: 'dpc', cpu: 1, *run(k, s) { yield* spinUntil(k, s.flags, (v) => v === 1); yield* k.ExWaitForRundownProtectionRelease(s.ref); } },
      },
    });
    expect(explore(DUAL, s, { schedules: 50 }).failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(explore(FREE_MP, s, { schedules: 50 }).failure?.bugcheck?.name).toBe('ATTEMPTED_SWITCH_FROM_DPC');
  });
});

describe('EX_RUNDOWN_REF under concurrency', () => {
  it('acquire fails as soon as a wait has started, even while an earlier holder is still inside; the last releaser wakes the waiter', () => {
    // flags: +0 holder inside, +1 late acquirer done, +2 late result (1 TRUE, 2 FALSE), +3 holder released, +4 waiter done
    const r = explore(DUAL, scn<S>({
      setup: base,
      actors: {
        holder: {
          cpu: 0,
          *run(k, s) {
            k.NT_ASSERT(yield* k.ExAcquireRundownProtection(s.ref));
            yield* k.WriteNoFence(s.flags, 1);
            yield* spinUntil(k, s.flags + 1, (v) => v === 1);
            k.NT_ASSERT((yield* k.ReadNoFence(s.flags + 4)) === 0, 'the waiter returned while a holder was inside');
            yield* k.WriteNoFence(s.flags + 3, 1);
            yield* k.ExReleaseRundownProtection(s.ref);
          },
        },
        owner: {
          cpu: 1,
          *run(k, s) {
            yield* spinUntil(k, s.flags, (v) => v === 1);
            yield* k.ExWaitForRundownProtectionRelease(s.ref);
            k.NT_ASSERT((yield* k.ReadNoFence(s.flags + 3)) === 1, 'the wait ended before the holder released');
            yield* k.WriteNoFence(s.flags + 4, 1);
          },
        },
        late: {
          cpu: 2,
          *run(k, s) {
            yield* spinUntil(k, s.ref, (v) => (v & 1) !== 0); // the rundown has started
            const ok = yield* k.ExAcquireRundownProtection(s.ref);
            yield* k.WriteNoFence(s.flags + 2, ok ? 1 : 2);
            yield* k.WriteNoFence(s.flags + 1, 1);
          },
        },
      },
      invariants: {
        'late acquire failed': (s, k) => k.peek(s.flags + 2) === 2,
        'waiter finished': (s, k) => k.peek(s.flags + 4) === 1,
      },
    }), { schedules: 300 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });

  it('the wait block takes over the outstanding count: word = &block | 1, block.Count = holders', () => {
    const r = explore(DUAL, scn<S>({
      setup: base,
      actors: {
        holders: {
          cpu: 0,
          *run(k, s) {
            k.NT_ASSERT(yield* k.ExAcquireRundownProtectionEx(s.ref, 2));
            yield* k.WriteNoFence(s.flags, 1);
            yield* spinUntil(k, s.ref, (v) => (v & 1) !== 0 && v !== 1);
            const v = k.peek(s.ref);
            k.NT_ASSERT(k.peek(((v & ~1) >>> 2) + WAIT_BLOCK_COUNT) === 2, `block count ${k.peek((v & ~1) >>> 2)}`);
            yield* k.ExReleaseRundownProtection(s.ref);
            k.NT_ASSERT(k.peek(((v & ~1) >>> 2) + WAIT_BLOCK_COUNT) === 1, 'one holder left');
            yield* k.ExReleaseRundownProtection(s.ref);
          },
        },
        owner: { cpu: 1, *run(k, s) { yield* spinUntil(k, s.flags, (v) => v === 1); yield* k.ExWaitForRundownProtectionRelease(s.ref); } },
      },
    }), { schedules: 100 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });

  it('a second ExWaitForRundownProtectionRelease without ExRundownCompleted misreads the dead block pointer and hangs', () => {
    const r = explore(FREE_MP, scn<S>({
      setup: base,
      actors: {
        holder: { cpu: 0, *run(k, s) { k.NT_ASSERT(yield* k.ExAcquireRundownProtection(s.ref)); yield* k.WriteNoFence(s.flags, 1); yield* k.ExReleaseRundownProtection(s.ref); } },
        owner: {
          cpu: 1,
          *run(k, s) {
            yield* spinUntil(k, s.flags, (v) => v === 1);
            yield* k.ExWaitForRundownProtectionRelease(s.ref);
            yield* k.ExWaitForRundownProtectionRelease(s.ref);
          },
        },
      },
    }), { schedules: 200 });
    expect(['hang', 'deadlock']).toContain(r.outcome);
  });
});

describe('cache-aware rundown', () => {
  interface CA {
    p: number;
    flags: number;
  }
  it('per-CPU slots may go negative; the sum counts; acquires fail once the wait started; the waiter waits for the holder', () => {
    const r = explore(preset('quad-free'), scn<CA>({
      setup: (k) => ({ p: k.ExAllocateCacheAwareRundownProtection(0, 'RnDn'), flags: k.ExAllocatePool2(0, 16, 'Flag') }),
      actors: {
        // Acquires on CPU 0, hands the protection to CPU 2, which releases it on its own slot.
        acquirer: { cpu: 0, *run(k, s) { k.NT_ASSERT(yield* k.ExAcquireRundownProtectionCacheAware(s.p)); yield* k.WriteNoFence(s.flags, 1); } },
        releaser: {
          cpu: 2,
          *run(k, s) {
            yield* spinUntil(k, s.flags, (v) => v === 1);
            yield* spinUntil(k, s.flags + 1, (v) => v === 1);
            yield* k.ExReleaseRundownProtectionCacheAware(s.p);
          },
        },
        owner: {
          cpu: 1,
          *run(k, s) {
            yield* spinUntil(k, s.flags, (v) => v === 1);
            yield* k.WriteNoFence(s.flags + 1, 1);
            yield* k.ExWaitForRundownProtectionReleaseCacheAware(s.p);
            k.NT_ASSERT(!(yield* k.ExAcquireRundownProtectionCacheAware(s.p)), 'acquire after the rundown must fail');
            yield* k.ExRundownCompletedCacheAware(s.p);
            yield* k.ExReInitializeRundownProtectionCacheAware(s.p);
            k.NT_ASSERT(yield* k.ExAcquireRundownProtectionCacheAware(s.p), 're-initialized');
            yield* k.ExReleaseRundownProtectionCacheAware(s.p);
          },
        },
      },
    }), { schedules: 300 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });

  it('lays out one cache-line slot per processor on MP and one slot on UP', () => {
    const quad = runOnce(preset('quad-free'), scn<CA>({
      setup: (k) => ({ p: k.ExAllocateCacheAwareRundownProtection(), flags: 0 }),
      actors: { t: { *run(k, s) { k.NT_ASSERT(k.peek(s.p + 3) === 4 && k.peek(s.p + 2) === 64, 'MP layout'); } } },
    }));
    expect(quad.outcome).toBe('pass');
    const up = runOnce(preset('uniprocessor'), scn<CA>({
      setup: (k) => ({ p: k.ExAllocateCacheAwareRundownProtection(), flags: 0 }),
      actors: { t: { *run(k, s) { k.NT_ASSERT(k.peek(s.p + 3) === 1 && k.peek(s.p + 2) === 4, 'UP layout'); } } },
    }));
    expect(up.outcome).toBe('pass');
  });
});
