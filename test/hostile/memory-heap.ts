import { defineScenario } from 'racebox';
const kept: number[][] = [];
// Hostile scenario (test/hostile/cases.json): 64 MB of JavaScript heap kept per step.
export default defineScenario<{ counter: number }>({
  id: 'hostile/memory-heap',
  title: '64 MB of JavaScript heap kept per step',
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
          kept.push(new Array<number>(8 * 1024 * 1024).fill(1));
          yield* k.ReadNoFence(s.counter);
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
