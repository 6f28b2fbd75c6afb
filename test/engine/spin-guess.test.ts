import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { defineScenario } from '../../src/scenario/define.ts';
import naiveTas from '../../scenarios/spinlock/naive-tas.ts';

// A loop that re-reads a word nobody writes looks like a spin-wait. The engine
// guesses so after a few identical reads (to recognise spins nobody will end),
// but a loop that gives up after a bounded number of polls must still finish.
const boundedPoll = defineScenario({
  id: 'test/bounded-poll',
  title: 'bounded poll',
  description: 'Polls a flag 40 times, then gives up.',
  family: 'test',
  setup: (k) => ({ flag: k.ExAllocatePool2(0, 4, 'Flag'), gaveUp: k.ExAllocatePool2(0, 4, 'Gave') }),
  actors: {
    poller: {
      cpu: 0,
      *run(k, s) {
        let tries = 0;
        while ((yield* k.ReadNoFence(s.flag)) === 0 && ++tries < 40);
        if (tries >= 40) yield* k.WriteNoFence(s.gaveUp, 1);
      },
    },
  },
  invariants: { 'gave up': (s, k) => k.peek(s.gaveUp) === 1 },
  expect: 'pass',
});

/** The same with a longer bound: far more futile reads than any retry budget would have allowed. */
const longBoundedPoll = defineScenario({
  id: 'test/long-bounded-poll',
  title: 'long bounded poll',
  description: 'Polls a flag 1500 times, nothing else able to run, then gives up.',
  family: 'test',
  setup: (k) => ({ flag: k.ExAllocatePool2(0, 4, 'Flag'), gaveUp: k.ExAllocatePool2(0, 4, 'Gave') }),
  actors: {
    poller: {
      cpu: 0,
      *run(k, s) {
        let tries = 0;
        while ((yield* k.ReadNoFence(s.flag)) === 0 && ++tries < 1500) yield* k.YieldProcessor();
        if (tries >= 1500) yield* k.WriteNoFence(s.gaveUp, 1);
      },
    },
  },
  invariants: { 'gave up': (s, k) => k.peek(s.gaveUp) === 1 },
  expect: 'pass',
});

describe('guessed spin-waits', () => {
  it('a guess never ends a run: a long bounded poll (PAUSE between reads) still runs to its end', () => {
    for (const strategy of ['random', 'pct', 'dfs'] as const) {
      const r = explore(presetRig('dual-opteron-240')!, longBoundedPoll, { strategy, schedules: 5 });
      expect(r.outcome, `${strategy}: ${r.failure?.message}`).toBe('pass');
    }
  });

  it('a bounded polling loop that nobody ends still runs to its end', () => {
    const r = explore(presetRig('dual-opteron-240')!, boundedPoll, { schedules: 20 });
    expect(r.outcome, r.failure?.message).toBe('pass');
  });

  it('a real spin nobody ends is still a deadlock', () => {
    const r = explore(presetRig('dual-opteron-240')!, naiveTas, { schedules: 1000 });
    expect(r.outcome).toBe('deadlock');
    expect(r.failure?.message).toMatch(/completionDpc.*spins on lock/);
  });
});
