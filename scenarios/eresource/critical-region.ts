import { defineScenario, type Kernel } from 'racebox';

interface State {
  tableLock: number;
  table: number;
}

function* ReadTable(k: Kernel, s: State) {
  yield* k.KeEnterCriticalRegion();
  yield* k.ExAcquireResourceSharedLite(s.tableLock, true);
  yield* k.ReadNoFence(s.table);
  yield* k.ExReleaseResourceLite(s.tableLock);
  yield* k.KeLeaveCriticalRegion();
}

export default defineScenario<State>({
  id: 'eresource/critical-region',
  title: 'ERESOURCE held inside a critical region',
  family: 'eresource',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'eresource/no-critical-region',
  description:
    'The same driver as eresource/no-critical-region with the rule followed: the update path calls ' +
    'KeEnterCriticalRegion before ExAcquireResourceExclusiveLite and KeLeaveCriticalRegion after the release. A ' +
    'suspension that arrives while the worker holds the resource stays pending (a critical region holds back normal ' +
    'kernel APCs) and takes effect at KeLeaveCriticalRegion, when the worker holds nothing; the control thread reads ' +
    'the table and resumes the worker. No schedule deadlocks.',
  setup: (k) => ({ tableLock: k.ExInitializeResourceLite(), table: k.ExAllocatePool2(0, 8, 'Tabl') }),
  actors: {
    worker: {
      cpu: 0,
      *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        yield* k.ExAcquireResourceExclusiveLite(s.tableLock, true);
        const v = yield* k.ReadNoFence(s.table);
        yield* k.WriteNoFence(s.table, v + 1);
        yield* k.WriteNoFence(s.table + 1, v + 1);
        yield* k.ExReleaseResourceLite(s.tableLock);
        yield* k.KeLeaveCriticalRegion();
      },
    },
    control: {
      cpu: 1,
      *run(k, s) {
        yield* k.NtSuspendThread('worker');
        yield* ReadTable(k, s);
        yield* k.NtResumeThread('worker');
      },
    },
  },
  invariants: {
    'table updated once': (s, k) => (k.peek(s.table) === 1 && k.peek(s.table + 1) === 1) || `table words ${k.peek(s.table)}, ${k.peek(s.table + 1)}`,
  },
  expect: 'pass',
});
