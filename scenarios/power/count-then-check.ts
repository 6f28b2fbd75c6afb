import { defineScenario } from 'racebox';
import { Io, Power, powerInvariants, setUpPower, type PowerState } from './check-then-count.ts';

export default defineScenario<PowerState>({
  id: 'power/count-then-check',
  title: 'Power-down races I/O: a request counts itself outstanding before it checks D0',
  family: 'power',
  variant: 'correct',
  pairedWith: 'power/check-then-count',
  description:
    'The device of power/check-then-count — three I/O paths sending five requests each while the power path ' +
    'goes D0 -> D3 -> D0 twice, unmapping the registers in D3 — with each request doing ' +
    'InterlockedIncrement(&OutstandingIo) first and checking the power state second; a request that finds ' +
    'the device in D3 decrements again and waits for D0. The power path sets D3 with an interlocked exchange ' +
    'before it reads OutstandingIo, and both interlocked operations are full barriers: either the request ' +
    'sees D3 and backs out, or the power path sees the request counted and waits for it. No request reads the ' +
    'registers while they are unmapped, on any number of processors — of x64. On ARM64 one ordering is still missing: ' +
    'a request reads the power state and then the register pointer with plain reads, and ARM64 may satisfy the ' +
    'second before the first. A request that sees the new D0 can still read the pointer to the block the power path ' +
    'freed in D3. Reading the power state with ReadAcquire orders it.',
  setup: setUpPower,
  actors: {
    read: { cpu: 0, *run(k, s) { yield* Io(k, s, true); } },
    write: { cpu: 1, *run(k, s) { yield* Io(k, s, true); } },
    ioctl: { cpu: 2, *run(k, s) { yield* Io(k, s, true); } },
    power: { cpu: 3, *run(k, s) { yield* Power(k, s); } },
  },
  invariants: powerInvariants,
  expect: [
    { when: { arch: 'arm64' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: 'pass' },
  ],
});
