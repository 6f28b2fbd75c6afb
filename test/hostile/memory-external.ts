import { defineScenario } from 'racebox';
const kept: Uint8Array[] = [];
// Hostile scenario (test/hostile/cases.json): 64 MB of ArrayBuffer kept per step.
export default defineScenario<{ counter: number }>({
  id: 'hostile/memory-external',
  title: '64 MB of ArrayBuffer kept per step',
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
          kept.push(new Uint8Array(64 * 1024 * 1024).fill(1));
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
