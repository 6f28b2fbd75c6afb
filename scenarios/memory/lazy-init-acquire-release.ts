import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel, type Routine } from 'racebox';

// memory/lazy-init-double-checked with the pointer published and read with ordering:
//   cfg = ReadAcquire(&Globals.Config);              // the fast path's read is an acquire
//   ...
//           WriteRelease(&Globals.Config, cfg);      // the fields are visible before the pointer
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
  let cfg = yield* k.ReadAcquire(s.config);
  if (cfg === 0) {
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    cfg = yield* k.ReadNoFence(s.config);
    if (cfg === 0) {
      cfg = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Cfg '), 'configBlock');
      yield* k.WriteNoFence(cfg + CFG_VERSION, VERSION);
      yield* k.WriteNoFence(cfg + CFG_MAX_TRANSFER, MAX_TRANSFER);
      yield* k.WriteRelease(s.config, cfg);
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
  id: 'memory/lazy-init-acquire-release',
  title: 'Double-checked lazy initialisation with WriteRelease / ReadAcquire',
  family: 'memory',
  variant: 'correct',
  pairedWith: 'memory/lazy-init-double-checked',
  description:
    'The configuration block of memory/lazy-init-double-checked, published with WriteRelease and read on the fast ' +
    'path with ReadAcquire: a caller that sees the pointer sees the fields written before it. Inside the lock the ' +
    'second check may stay a plain read (the spin lock orders it). Correct on x64 and ARM64.',
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
      return bad < 0 || `caller ${bad} read Version ${seen[bad]} from the published block`;
    },
  },
  expect: 'pass',
});
