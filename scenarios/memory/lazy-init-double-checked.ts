import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel, type Routine } from 'racebox';

// Double-checked lazy initialisation of a driver-wide configuration block:
//   cfg = ReadNoFence(&Globals.Config);
//   if (cfg == NULL) {
//       KeAcquireSpinLock(&Globals.Lock, &irql);
//       cfg = ReadNoFence(&Globals.Config);
//       if (cfg == NULL) {
//           cfg = ExAllocatePool2(...); cfg->Version = 3; cfg->MaxTransfer = 4096;
//           WriteNoFence(&Globals.Config, cfg);          // <- a plain store publishes it
//       }
//       KeReleaseSpinLock(&Globals.Lock, irql);
//   }
//   use(cfg->Version);
const VERSION = 3;
const MAX_TRANSFER = 4096;
const CFG_VERSION = 0;
const CFG_MAX_TRANSFER = 1;

interface State {
  lock: number;
  config: number;
  seen0: number;
  seen1: number;
  seen2: number;
}

function* GetConfig(k: Kernel, s: State): Routine<number> {
  let cfg = yield* k.ReadNoFence(s.config);
  if (cfg === 0) {
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    cfg = yield* k.ReadNoFence(s.config);
    if (cfg === 0) {
      cfg = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Cfg '), 'configBlock');
      yield* k.WriteNoFence(cfg + CFG_VERSION, VERSION);
      yield* k.WriteNoFence(cfg + CFG_MAX_TRANSFER, MAX_TRANSFER);
      yield* k.WriteNoFence(s.config, cfg);
    }
    yield* k.KeReleaseSpinLock(s.lock, irql);
  }
  return cfg;
}

function* UseConfig(k: Kernel, s: State, seen: number) {
  const cfg = yield* GetConfig(k, s);
  const version = yield* k.ReadNoFence(cfg + CFG_VERSION);
  yield* k.InterlockedExchange(seen, version);
}

export default defineScenario<State>({
  id: 'memory/lazy-init-double-checked',
  title: 'Double-checked lazy initialisation with a plain pointer store',
  family: 'memory',
  variant: 'buggy',
  pairedWith: 'memory/lazy-init-acquire-release',
  description:
    'Three processors need a driver-wide configuration block that is built on first use. The first caller takes a ' +
    'spin lock, allocates the block, fills in Version and MaxTransfer and stores the pointer; later callers see the ' +
    'pointer and skip the lock. On x64 the pointer cannot become visible before the fields. On ARM64 it can: while the ' +
    'initialising processor still holds the lock, another one reads the non-NULL pointer on the fast path and then ' +
    'a Version of 0. The spin lock does not help the fast path, which never takes it. Publishing with WriteRelease and ' +
    'reading the pointer with ReadAcquire fixes it (memory/lazy-init-acquire-release).',
  setup: (k) => ({
    lock: k.KeInitializeSpinLock(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Lock')),
    config: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Glob'),
    seen0: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    seen1: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    seen2: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
  }),
  actors: {
    first: { cpu: 0, *run(k, s) { yield* UseConfig(k, s, s.seen0); } },
    second: { cpu: 1, *run(k, s) { yield* UseConfig(k, s, s.seen1); } },
    third: { cpu: 2, *run(k, s) { yield* UseConfig(k, s, s.seen2); } },
  },
  invariants: {
    'every caller sees an initialised block': (s, k) => {
      const seen = [s.seen0, s.seen1, s.seen2].map((a) => k.peek(a));
      const bad = seen.findIndex((v) => v !== VERSION);
      return bad < 0 ||
        `caller ${bad} read Version ${seen[bad]} from the published block: the pointer was visible to it before the initialising stores were`;
    },
  },
  expect: [
    { when: { arch: 'arm64' }, outcome: { invariant: 'every caller sees an initialised block' } },
    { outcome: 'pass' },
  ],
});
