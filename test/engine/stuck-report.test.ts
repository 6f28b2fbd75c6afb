import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { formatFailure } from '../../src/cli/format.ts';
import { SynchronizationEvent } from '../../src/kernel/status.ts';
import { preset, scn } from '../helpers.ts';

/** A hang or deadlock report names the CPU each waiting routine runs on, and shows its waiting threads. */
describe('stuck reports name the waiting routine\'s CPU', () => {
  it('a reader on CPU 1 that waits forever is reported on CPU 1; CPU 0 is idle with nothing waiting', () => {
    const s = scn<{ ready: number; data: number }>({
      setup: (k) => ({ ready: k.KeInitializeEvent(SynchronizationEvent, false), data: k.ExAllocatePool2(0, 4, 'Data') }),
      actors: {
        // The writer publishes the data but forgets to set the event.
        writer: { cpu: 0, *run(k, s) { yield* k.WriteNoFence(s.data, 1); } },
        reader: { cpu: 1, *run(k, s) { yield* k.KeWaitForSingleObject(s.ready, 0, 0, false, null); } },
      },
    });
    for (const strategy of ['pct', 'random', 'dfs'] as const) {
      const r = explore(preset('dual-opteron-240'), s, { strategy, seed: 3, schedules: 5 });
      expect(r.outcome).toBe('hang');
      const f = r.failure!;
      expect(f.message).toMatch(/CPU 1: thread 'reader'/);
      expect(f.cpu).toBe(1);
      expect(f.routine).toMatch(/^reader/);
      expect(f.cpus[0]!.waitingThreads).toBeUndefined();
      expect(f.cpus[1]!.waitingThreads).toEqual(['reader']);
      expect(formatFailure(f).join('\n')).toMatch(/CPU 1 .*\(waiting: reader\)/);
    }
  });

  it('two threads waiting on each other: each CPU lists its own waiting thread', () => {
    const s = scn<{ a: number; b: number }>({
      setup: (k) => ({ a: k.KeInitializeEvent(SynchronizationEvent, false), b: k.KeInitializeEvent(SynchronizationEvent, false) }),
      actors: {
        first: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.b, 0, 0, false, null); yield* k.KeSetEvent(s.a, 0, false); } },
        second: { cpu: 1, *run(k, s) { yield* k.KeWaitForSingleObject(s.a, 0, 0, false, null); yield* k.KeSetEvent(s.b, 0, false); } },
      },
    });
    const r = explore(preset('dual-opteron-240'), s, { strategy: 'random', seed: 1, schedules: 1 });
    expect(r.outcome).toBe('deadlock');
    const f = r.failure!;
    expect(f.cpus.map((c) => c.waitingThreads)).toEqual([['first'], ['second']]);
    expect(f.routine.startsWith(f.cpu === 0 ? 'first' : 'second')).toBe(true);
  });
});
