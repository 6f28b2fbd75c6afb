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
  id: 'eresource/no-critical-region',
  title: 'ERESOURCE acquired without a critical region',
  family: 'eresource',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'eresource/critical-region',
  description:
    'The update path, running in the application\'s worker thread, takes the table ERESOURCE exclusive at ' +
    'PASSIVE_LEVEL without KeEnterCriticalRegion. Normal kernel APCs stay enabled, and thread suspension is a normal ' +
    'kernel APC: when the application\'s control thread suspends the worker (SuspendThread) while it holds the ' +
    'resource, the worker stops right there. The control thread then reads the table through the driver before it ' +
    'resumes the worker — and waits for the resource the suspended worker holds: nobody can ever run again. A checked ' +
    'build stops the first acquire with 0xC4/0x37 (resource acquired with APCs enabled); a free build deadlocks when ' +
    'the suspension lands inside the locked region.',
  setup: (k) => ({ tableLock: k.ExInitializeResourceLite(), table: k.ExAllocatePool2(0, 8, 'Tabl') }),
  actors: {
    worker: {
      cpu: 0,
      *run(k, s) {
        yield* k.ExAcquireResourceExclusiveLite(s.tableLock, true); // BUG: no KeEnterCriticalRegion
        const v = yield* k.ReadNoFence(s.table);
        yield* k.WriteNoFence(s.table, v + 1);
        yield* k.WriteNoFence(s.table + 1, v + 1);
        yield* k.ExReleaseResourceLite(s.tableLock);
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
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x37 } },
    { outcome: 'deadlock' },
  ],
});
