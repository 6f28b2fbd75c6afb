import { defineScenario } from 'racebox';
import { deviceInvariants, Io, OpenClose, Remove, setUpDevice, type DeviceState } from './refcount-two-locks.ts';

export default defineScenario<DeviceState>({
  id: 'device/refcount-interlocked',
  title: 'Device reference count changed only with interlocked operations',
  family: 'device',
  variant: 'correct',
  pairedWith: 'device/refcount-two-locks',
  description:
    'The device object of device/refcount-two-locks — two I/O threads, a create/close thread and the remove ' +
    'thread taking and dropping references for six rounds, the last reference freeing the object — with the ' +
    'count changed only by InterlockedIncrement and InterlockedDecrement. Each update is one atomic step, so none ' +
    'is lost whatever the interleaving; the object is freed once, by whoever drops the last reference, and only ' +
    'after remove has dropped the device\'s own reference, which it does once every user is done.',
  setup: setUpDevice,
  actors: {
    'io-1': { cpu: 0, *run(k, s) { yield* Io(k, s, true); } },
    'io-2': { cpu: 1, *run(k, s) { yield* Io(k, s, true); } },
    'open-close': { cpu: 2, *run(k, s) { yield* OpenClose(k, s, true); } },
    remove: { cpu: 3, *run(k, s) { yield* Remove(k, s, true); } },
  },
  invariants: deviceInvariants,
  expect: 'pass',
});
