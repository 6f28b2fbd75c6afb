import { defineScenario } from 'racebox';

// Not hostile: a valid run whose one schedule takes longer than the stall limit the hostile suite
// sets (RACEBOX_STALL_MS). The stall watchdog counts steps, so it must pass (test/hostile/cases.json).
const ROUNDS = Number(new URL(import.meta.url).searchParams.get('rounds') ?? 4_000_000);

export default defineScenario<{ counter: number }>({
  id: 'hostile/long-run',
  title: 'A valid run with millions of steps in one schedule',
  description: 'Two actors each read a word millions of times: a long schedule, not a stalled one.',
  family: 'hostile',
  setup: (k) => ({ counter: k.ExAllocatePool2(0, 4, 'Cntr') }),
  actors: {
    first: {
      cpu: 0,
      *run(k, s) {
        for (let i = 1; i <= ROUNDS; i++) yield* k.WriteNoFence(s.counter, i);
      },
    },
    second: {
      cpu: 1,
      *run(k, s) {
        for (let i = 1; i <= ROUNDS; i++) yield* k.WriteNoFence(s.counter, i);
      },
    },
  },
  expect: 'pass',
});
