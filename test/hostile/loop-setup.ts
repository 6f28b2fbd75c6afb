import { defineScenario } from 'racebox';

// Hostile scenario (test/hostile/cases.json): setup loops forever.
export default defineScenario<{ counter: number }>({
  id: 'hostile/loop-setup',
  title: 'setup loops forever',
  description: 'A broken or hostile scenario the box must contain (test/hostile).',
  family: 'hostile',
  setup: (k) => {
    for (;;) {
      // no kernel call, no end
    }
    return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };
  },
  actors: {
    first: {
      cpu: 0,
      *run(k, s) {

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
