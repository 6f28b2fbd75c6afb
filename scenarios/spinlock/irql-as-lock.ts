import { defineScenario, DISPATCH_LEVEL, type Kernel } from 'racebox';

function* BumpAtDispatch(k: Kernel, counter: number) {
  // "Nothing can preempt me at DISPATCH_LEVEL" — true on this processor only.
  const oldIrql = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
  const v = yield* k.ReadNoFence(counter);
  yield* k.WriteNoFence(counter, v + 1);
  yield* k.KeLowerIrql(oldIrql);
}

export default defineScenario({
  id: 'spinlock/irql-as-lock',
  title: 'Raising IRQL to DISPATCH_LEVEL used as a lock',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'spinlock/ke-spinlock',
  description:
    'On a uniprocessor HAL, KeAcquireSpinLock does nothing but raise IRQL to DISPATCH_LEVEL, so a driver author may ' +
    'conclude that raising IRQL is the lock. It is, on one processor: no thread switch and no DPC can run there. ' +
    'But IRQL belongs to a processor, not to the data: on a second processor — even the hyper-threaded sibling of ' +
    'the same core — another thread reads the same counter at the same moment, and one increment is lost.',
  setup: (k) => ({ counter: k.ExAllocatePool2(0, 4, 'Cntr') }),
  actors: {
    first: { cpu: 0, *run(k, s) { yield* BumpAtDispatch(k, s.counter); } },
    second: { cpu: 1, *run(k, s) { yield* BumpAtDispatch(k, s.counter); } },
    timerDpc: {
      kind: 'dpc',
      cpu: 0,
      *run(k, s) {
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
      },
    },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.counter) === 3 || `counter is ${k.peek(s.counter)}, expected 3: an increment was lost`,
  },
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: { invariant: 'no lost update' } },
  ],
});
