import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// memory/volatile-iso's handshake compiled with /volatile:ms: the volatile store of Ready is a
// release and the volatile load an acquire, on ARM64 too (STLR / LDAR).
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
  id: 'memory/volatile-ms',
  title: 'A volatile flag handshake under /volatile:ms',
  family: 'memory',
  variant: 'correct',
  pairedWith: 'memory/volatile-iso',
  volatile: 'ms',
  description:
    'The handshake of memory/volatile-iso compiled with /volatile:ms: MSVC makes every volatile write a release and ' +
    'every volatile read an acquire, on ARM64 as on x64, so the consumer that sees Ready sees Data. Correct on both ' +
    '(at the cost of barriers on every volatile access on ARM64).',
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
    'consumer sees the data': (s, k) => k.peek(s.seen) === 42 || `the consumer saw Ready = 1 but read Data = ${k.peek(s.seen)}`,
  },
  expect: 'pass',
});
