import { defineScenario } from 'racebox';

// Hostile scenario (test/hostile/cases.json): process.exit(0) in an actor that catches what it throws.
export default defineScenario<{ counter: number }>({
  id: 'hostile/exit-swallowed',
  title: 'process.exit(0) in an actor that catches what it throws',
  description: 'A broken or hostile scenario the box must contain (test/hostile).',
  family: 'hostile',
  setup: (k) => {

    return { counter: k.ExAllocatePool2(0, 4, 'Cntr') };
  },
  actors: {
    first: {
      cpu: 0,
      *run(k, s) {
        try {
          process.exit(0);
        } catch {
          // hides the refusal: the run must still end as error
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
