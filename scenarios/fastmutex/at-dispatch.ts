import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'fastmutex/at-dispatch',
  title: 'FAST_MUTEX acquired while holding a spin lock',
  family: 'fastmutex',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'fastmutex/correct',
  description:
    'The interrupt-setup path takes the device spin lock (so it runs at DISPATCH_LEVEL) and then calls a helper that ' +
    'takes the configuration FAST_MUTEX. A fast mutex may only be acquired at IRQL <= APC_LEVEL: it can block, and a ' +
    'processor at DISPATCH_LEVEL must not. Meanwhile the configuration path takes the mutex first and then the device ' +
    'lock to program the hardware. A checked build stops at the acquire with 0xC4/0x33. On a free build ' +
    'ExAcquireFastMutex "raises" to APC_LEVEL, which actually drops the IRQL under the spin lock; when the ' +
    'configuration path owns the mutex, the setup path sleeps holding the device lock while the configuration path ' +
    'spins on it at DISPATCH_LEVEL forever: a deadlock (DPC_WATCHDOG_VIOLATION in the field).',
  setup: (k) => ({ deviceLock: k.KeInitializeSpinLock(), configMutex: k.ExInitializeFastMutex(), config: k.ExAllocatePool2(0, 4, 'Cfg') }),
  actors: {
    setupInterrupts: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeAcquireSpinLock(s.deviceLock);
        yield* k.ExAcquireFastMutex(s.configMutex); // BUG: at DISPATCH_LEVEL
        const c = yield* k.ReadNoFence(s.config);
        yield* k.WriteNoFence(s.config, c | 1);
        yield* k.ExReleaseFastMutex(s.configMutex);
        yield* k.KeReleaseSpinLock(s.deviceLock, oldIrql);
      },
    },
    configure: {
      cpu: 1,
      *run(k, s) {
        yield* k.ExAcquireFastMutex(s.configMutex);
        const c = yield* k.ReadNoFence(s.config);
        const oldIrql = yield* k.KeAcquireSpinLock(s.deviceLock);
        yield* k.WriteNoFence(s.config, c | 2);
        yield* k.KeReleaseSpinLock(s.deviceLock, oldIrql);
        yield* k.ExReleaseFastMutex(s.configMutex);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x33 } },
    { outcome: 'deadlock' },
  ],
});
