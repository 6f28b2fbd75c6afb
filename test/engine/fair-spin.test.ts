import { describe, expect, it } from 'vitest';
import { explore, type ExploreOptions } from '../../src/engine/explore.ts';
import { NotificationEvent } from '../../src/kernel/status.ts';
import { loadAllScenarios } from '../../src/workers/node-load.ts';
import { CHECKED_MP, FREE_MP, preset, rig, scn } from '../helpers.ts';

// Issue 18: a correct poll loop must never be reported as a deadlock or a hang, under any strategy.

/**
 * Take a spin lock, read a state word, release the lock, wait on a notification
 * event that is already signalled (the wait returns at once), repeat until
 * another CPU changes the word under the same lock.
 */
const pollLoop = scn({
  id: 'test/poll-loop',
  setup: (k) => ({
    lock: k.KeInitializeSpinLock(),
    state: k.ExAllocatePool2(0, 4, 'state'),
    work: k.ExAllocatePool2(0, 4, 'work'),
    ready: k.KeInitializeEvent(NotificationEvent, true),
  }),
  actors: {
    poller: {
      cpu: 0,
      *run(k, s) {
        for (;;) {
          const old = yield* k.KeAcquireSpinLock(s.lock);
          const v = yield* k.ReadNoFence(s.state);
          yield* k.KeReleaseSpinLock(s.lock, old);
          if (v !== 0) return;
          yield* k.KeWaitForSingleObject(s.ready);
        }
      },
    },
    setter: {
      cpu: 1,
      *run(k, s) {
        for (let i = 1; i <= 3; i++) yield* k.WriteNoFence(s.work, i);
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.WriteNoFence(s.state, 1);
        yield* k.KeReleaseSpinLock(s.lock, old);
      },
    },
  },
  invariants: { 'state set': (s, k) => k.peek(s.state) === 1 },
});

/**
 * PCT's starvation pattern: a busy loop through kernel calls that change nothing
 * (no lock; a poll of the word, then a wait on a signalled event), and a thread
 * on another CPU that must take several steps before it ends the loop.
 */
const busyWait = scn({
  id: 'test/busy-wait',
  setup: (k) => ({
    done: k.ExAllocatePool2(0, 4, 'done'),
    work: k.ExAllocatePool2(0, 4, 'work'),
    ready: k.KeInitializeEvent(NotificationEvent, true),
  }),
  actors: {
    poller: {
      cpu: 0,
      *run(k, s) {
        while ((yield* k.ReadNoFence(s.done)) === 0) {
          yield* k.KeWaitForSingleObject(s.ready);
          yield* k.KeWaitForSingleObject(s.ready, 0, 0, false, 0);
        }
      },
    },
    finisher: {
      cpu: 1,
      *run(k, s) {
        for (let i = 1; i <= 8; i++) yield* k.WriteNoFence(s.work, i);
        yield* k.WriteNoFence(s.done, 1);
      },
    },
  },
});

/** A loop of PAUSEs around a read (YieldProcessor), the finisher again several steps away. */
const pauseLoop = scn({
  id: 'test/pause-loop',
  setup: (k) => ({ done: k.ExAllocatePool2(0, 4, 'done'), work: k.ExAllocatePool2(0, 4, 'work') }),
  actors: {
    poller: {
      cpu: 0,
      *run(k, s) {
        for (let i = 0; (yield* k.ReadNoFence(s.done)) === 0; i++) {
          yield* k.YieldProcessor();
          yield* k.WriteNoFence(s.work, 100 + (i & 1)); // something in between: never a guessed spin
        }
      },
    },
    finisher: {
      cpu: 1,
      *run(k, s) {
        for (let i = 1; i <= 5; i++) yield* k.ReadNoFence(s.work);
        yield* k.WriteNoFence(s.done, 1);
      },
    },
  },
});

const strategies: [string, ExploreOptions][] = [
  ['random', { strategy: 'random' }],
  ...[1, 2, 3, 4, 5].map((depth): [string, ExploreOptions] => [`pct depth ${depth}`, { strategy: 'pct', depth }]),
  ['pos', { strategy: 'pos' }],
  ['dfs bound 1', { strategy: 'dfs', preemptionBound: 1 }],
  ['dfs bound 2', { strategy: 'dfs', preemptionBound: 2 }],
  ['portfolio', { strategy: 'portfolio' }],
];

const SCHEDULES = 2000;
/** ARMv8's model (weak-memory.ts): its stale reads and buffered stores must not turn a poll loop into a false report either. */
const ARM64_MP = rig({ id: 'test-arm64', arch: 'arm64' });

describe('a correct poll loop passes under every strategy', () => {
  for (const [name, o] of strategies) {
    it(`${name}: spin lock, read, release, wait on a signalled event`, () => {
      for (const r of [CHECKED_MP, FREE_MP, ARM64_MP]) {
        const x = explore(r, pollLoop, { ...o, seed: 7, schedules: SCHEDULES });
        expect(x.outcome, `${r.id}: ${x.failure?.message}`).toBe('pass');
      }
    }, 30_000);
  }
});

describe('fair spinning: a loop of yields does not starve the thread that ends it', () => {
  for (const [name, o] of strategies) {
    it(`${name}: busy wait through waits that return at once, and a PAUSE loop`, () => {
      for (const r of [CHECKED_MP, ARM64_MP]) {
        for (const s of [busyWait, pauseLoop]) {
          const x = explore(r, s, { ...o, seed: 3, schedules: SCHEDULES });
          expect(x.outcome, `${r.id} ${s.id}: ${x.failure?.message}`).toBe('pass');
        }
      }
    }, 30_000);
  }

  it('on one CPU too (the finisher runs after a quantum end)', () => {
    const up = rig({ id: 'fair-up', cores: 1, hal: 'up' });
    for (const [, o] of strategies) {
      const x = explore(up, busyWait, { ...o, seed: 5, schedules: 500 });
      expect(x.outcome, `${o.strategy}: ${x.failure?.message}`).toBe('pass');
    }
  });

  it('a loop that never ends is still a watchdog hang that says livelock', () => {
    const r = rig({ id: 'short-wd', watchdog: { maxSteps: 2000 } });
    const forever = scn({
      setup: (k) => ({ done: k.ExAllocatePool2(0, 4, 'done'), ready: k.KeInitializeEvent(NotificationEvent, true) }),
      actors: {
        poller: { cpu: 0, *run(k, s) { while ((yield* k.ReadNoFence(s.done)) === 0) yield* k.KeWaitForSingleObject(s.ready); } },
      },
    });
    const x = explore(r, forever, { strategy: 'pct', schedules: 3 });
    expect(x.outcome).toBe('hang');
    expect(x.failure!.message).toMatch(/livelock/);
    expect(x.failure!.message).toMatch(/poller.*keeps reading done/);
  });
});

describe('a re-check under a spin lock just taken is progress, not a yield', async () => {
  // Double-checked locking reads the pointer, takes the lock and reads it again. Counted as a yield, that
  // second read held the initialiser back until every other CPU had stepped — each then read the pointer
  // still NULL — and no pct depth found the fast-path race in 100,000 schedules (random did in hundreds).
  const s = (await loadAllScenarios()).find((x) => x.id === 'memory/lazy-init-double-checked')!;
  it('pct at every depth finds the double-checked-locking race on ARM64 within 200 schedules', () => {
    for (const depth of [1, 2, 3, 4, 5]) {
      const r = explore(preset('arm64-quad'), s, { strategy: 'pct', depth, seed: 1, schedules: 200 });
      expect(r.outcome, `pct d=${depth}`).toBe('invariant');
    }
  });
});
