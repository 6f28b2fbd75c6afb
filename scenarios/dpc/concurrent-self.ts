import { defineScenario, type Kernel } from 'racebox';

// nt-semantics section 10: DpcData is cleared before the routine runs, so one KDPC can run on two CPUs at once.

interface State {
  interrupt: number;
  dpc: number;
  /** The device extension (the DPC's DeferredContext). */
  devExt: number;
}

// Device extension layout (words).
const BYTES_TRANSFERRED = 0; // driver statistics the DPC updates without a lock
const DPC_RUNS = 1; // how many times the DPC routine ran (interlocked: the reference count)

function* TransferDpc(k: Kernel, _dpc: number, devExt: number) {
  yield* k.InterlockedIncrement(devExt + DPC_RUNS);
  // BUG: "a DPC never runs concurrently with itself" — it does, on another processor.
  const n = yield* k.ReadNoFence(devExt + BYTES_TRANSFERRED);
  yield* k.WriteNoFence(devExt + BYTES_TRANSFERRED, n + 512);
}

export default defineScenario<State>({
  id: 'dpc/concurrent-self',
  title: 'One KDPC runs on two processors at once and loses an update',
  family: 'dpc',
  variant: 'buggy',
  pairedWith: 'dpc/concurrent-self-locked',
  description:
    'The device interrupts on more than one processor (MSI-X, or an interrupt routed to any CPU); each ISR queues the ' +
    'same KDPC with KeInsertQueueDpc, which targets the processor it runs on. The DPC routine adds to a byte counter ' +
    'in the device extension without a lock, on the assumption that a DPC never runs concurrently with itself. But the ' +
    'kernel clears the DPC\'s queued state before calling the routine, so while it runs on CPU 0 the ISR on CPU 1 can ' +
    'queue it again, and CPU 1 runs it at the same time: both read the old count and one update is lost. On one ' +
    'processor the two runs are serialized and the bug never shows. The fix is a spin lock taken with ' +
    'KeAcquireSpinLockAtDpcLevel around the update (dpc/concurrent-self-locked).',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(0, 8, 'DevX');
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
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: { invariant: 'no lost update' } },
  ],
});
