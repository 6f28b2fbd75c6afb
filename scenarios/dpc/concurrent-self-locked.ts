import { defineScenario, type Kernel } from 'racebox';

// nt-semantics section 10: DpcData is cleared before the routine runs, so one KDPC can run on two CPUs at once.

interface State {
  interrupt: number;
  dpc: number;
  /** The device extension (the DPC's DeferredContext). */
  devExt: number;
}

// Device extension layout (words).
const BYTES_TRANSFERRED = 0; // driver statistics, protected by the statistics lock
const DPC_RUNS = 1; // how many times the DPC routine ran (interlocked: the reference count)
const STATS_LOCK = 2; // KSPIN_LOCK

function* TransferDpc(k: Kernel, _dpc: number, devExt: number) {
  yield* k.InterlockedIncrement(devExt + DPC_RUNS);
  // The same DPC may be running on another processor: take the lock (we are already at DISPATCH_LEVEL).
  yield* k.KeAcquireSpinLockAtDpcLevel(devExt + STATS_LOCK);
  const n = yield* k.ReadNoFence(devExt + BYTES_TRANSFERRED);
  yield* k.WriteNoFence(devExt + BYTES_TRANSFERRED, n + 512);
  yield* k.KeReleaseSpinLockFromDpcLevel(devExt + STATS_LOCK);
}

export default defineScenario<State>({
  id: 'dpc/concurrent-self-locked',
  title: 'One KDPC on two processors at once, its state under a spin lock',
  family: 'dpc',
  variant: 'correct',
  pairedWith: 'dpc/concurrent-self',
  description:
    'The same device as dpc/concurrent-self: interrupts on two processors each queue the one KDPC, which can therefore ' +
    'run on both processors at the same time. This driver treats its DPC as re-entrant across processors and updates ' +
    'the byte counter under a spin lock taken with KeAcquireSpinLockAtDpcLevel (the DPC already runs at ' +
    'DISPATCH_LEVEL). No update is lost on any rig.',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(0, 12, 'DevX');
    k.KeInitializeSpinLock(devExt + STATS_LOCK);
    k.name(devExt + STATS_LOCK, 'StatsLock');
    return {
      interrupt: k.IoConnectInterrupt({ irql: 5, name: 'DeviceInterrupt' }),
      dpc: k.KeInitializeDpc(TransferDpc, devExt, 'TransferDpc'),
      devExt,
    };
  },
  actors: {
    isrOnCpu0: {
      kind: 'interrupt',
      cpu: 0,
      interrupt: (s) => s.interrupt,
      *run(k, s) {
        yield* k.KeInsertQueueDpc(s.dpc, 0, 0);
      },
    },
    isrOnCpu1: {
      kind: 'interrupt',
      cpu: 1,
      interrupt: (s) => s.interrupt,
      *run(k, s) {
        yield* k.KeInsertQueueDpc(s.dpc, 0, 0);
      },
    },
  },
  invariants: {
    'no lost update': (s, k) => {
      const runs = k.peek(s.devExt + DPC_RUNS);
      const bytes = k.peek(s.devExt + BYTES_TRANSFERRED);
      return bytes === 512 * runs || `the DPC ran ${runs} times but bytesTransferred is ${bytes}, not ${512 * runs}`;
    },
  },
  expect: 'pass',
});
