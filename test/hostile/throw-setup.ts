import { defineScenario } from 'racebox';

// Hostile scenario (test/hostile/cases.json): setup throws.
export default defineScenario<{ counter: number }>({
  id: 'hostile/throw-setup',
  title: 'setup throws',
  description: 'A broken or hostile scenario the box must contain (test/hostile).',
  family: 'hostile',
  setup: (k) => {
    throw new Error('setup is broken');
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
