import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A handshake through a volatile flag, compiled with /volatile:iso (MSVC's default for ARM64):
//   Ext->Data = 42;            // plain
//   Ext->Ready = 1;            // volatile LONG Ready
// and on another processor:
//   while (Ext->Ready == 0) ;  // volatile read
//   use(Ext->Data);            // plain
interface State {
  data: number;
  ready: number;
  seen: number;
}

function* Produce(k: Kernel, s: State) {
  yield* k.WriteRaw(s.data, 42);
  yield* k.WriteVolatile(s.ready, 1);
}

function* Consume(k: Kernel, s: State) {
  while ((yield* k.ReadVolatile(s.ready)) === 0);
  const v = yield* k.ReadRaw(s.data);
  yield* k.InterlockedExchange(s.seen, v);
}

export default defineScenario<State>({
  id: 'memory/volatile-iso',
  title: 'A volatile flag handshake under /volatile:iso',
  family: 'memory',
  variant: 'buggy',
  pairedWith: 'memory/volatile-ms',
  volatile: 'iso',
  description:
    'A producer stores Data and then sets a `volatile` Ready flag; a consumer on another processor waits for Ready ' +
    'and reads Data. Under /volatile:ms (MSVC\'s default on x64) a volatile write is a release and a volatile read an ' +
    'acquire, and the handshake is correct. Under /volatile:iso — the default when compiling for ARM64 — volatile only ' +
    'stops the compiler from caching the flag: on ARM64 Data may become visible after Ready, or the consumer\'s read ' +
    'of Data may be satisfied early, and it reads 0. On x64 the hardware orders the accesses anyway. Fix: WriteRelease ' +
    '/ ReadAcquire on the flag, or compile with /volatile:ms (memory/volatile-ms).',
  setup: (k) => ({
    data: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Data'),
    ready: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Rdy '),
    seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
  }),
  actors: {
    producer: { cpu: 0, *run(k, s) { yield* Produce(k, s); } },
    consumer: { cpu: 1, *run(k, s) { yield* Consume(k, s); } },
  },
  invariants: {
    'consumer sees the data': (s, k) => k.peek(s.seen) === 42 ||
      `the consumer saw Ready = 1 but read Data = ${k.peek(s.seen)}: under /volatile:iso the volatile flag orders nothing`,
  },
  expect: [
    { when: { arch: 'arm64' }, outcome: { invariant: 'consumer sees the data' } },
    { outcome: 'pass' },
  ],
});
