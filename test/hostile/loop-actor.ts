import { defineScenario } from 'racebox';

// Hostile scenario (test/hostile/cases.json): an actor loops without calling the kernel.
export default defineScenario<{ counter: number }>({
  id: 'hostile/loop-actor',
  title: 'an actor loops without calling the kernel',
  description: 'A broken or hostile scenario the box must contain (test/hostile).',
  family: 'hostile',
  setup: (k) => {

    return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };
  },
  actors: {
    first: {
      cpu: 0,
      *run(k, s) {
        for (;;) {
          // no yield: the box can neither interleave nor stop it
        }
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
      },
    },
    second: {
      cpu: 1,
      *run(k, s) {
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
      },
    },
  },
  expect: 'pass',
  invariants: {
    'counter counts': (s, k) => {

      return k.peek(s.counter) >= 1;
    },
  },
});
