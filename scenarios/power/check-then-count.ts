import { defineScenario, Executive, KernelMode, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A device that powers down (D0 -> D3 -> D0) while three I/O paths program its registers. The I/O paths
// check the power state first and count themselves outstanding second.

/** Requests each I/O path sends. */
export const IO_ROUNDS = 5;
/** D0 -> D3 -> D0 transitions the power path makes (an idle timeout firing, then a wake). */
export const POWER_CYCLES = 2;
const REG_WORDS = 4;
const REG_DATA = 0x52454700;
const D0 = 0;
const D3 = 3;

export interface PowerState {
  /** The device extension's spin lock: guards the power state word. */
  lock: number;
  /** DEVICE_POWER_STATE: D0 or D3. */
  power: number;
  /** Requests between "the device is on" and "done with the registers". */
  outstanding: number;
  /** The address of the mapped register block: unmapped (freed) on the way to D3, mapped anew in D0. */
  regs: number;
  /** Signalled while the device is in D0; requests that find it in D3 wait on it. */
  poweredOn: number;
  /** Test bookkeeping: word 0 is 1 while the hardware is powered, word 1 non-zero once a request touched it in D3. */
  tally: number;
}

export function setUpPower(k: Kernel): PowerState {
  const block = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * REG_WORDS, 'Regs');
  for (let i = 0; i < REG_WORDS; i++) k.poke(block + i, REG_DATA + i);
  const regs = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'RegP');
  k.poke(regs, block);
  const tally = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Taly');
  k.poke(tally, 1);
  return {
    lock: k.KeInitializeSpinLock(),
    power: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Powr'),
    outstanding: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Outs'),
    regs,
    poweredOn: k.KeInitializeEvent(NotificationEvent, true),
    tally,
  };
}

/** Starts a transfer: read the status registers through the current mapping, then ring the doorbell. */
function* ProgramHardware(k: Kernel, s: PowerState) {
  const block = yield* k.ReadNoFence(s.regs);
  for (let w = 0; w < REG_WORDS - 1; w++) {
    const v = yield* k.ReadNoFence(block + w);
    // Bookkeeping of the test, not driver code: no scheduling point.
    if (v !== REG_DATA + w || k.peek(s.tally) !== 1) k.poke(s.tally + 1, 1);
  }
  yield* k.WriteNoFence(block + REG_WORDS - 1, REG_DATA + REG_WORDS - 1);
}

/**
 * One I/O path (read, write or device control): IO_ROUNDS requests. In the buggy form it checks the power
 * state under the lock and only afterwards counts itself outstanding; in the fixed form it counts itself
 * first (InterlockedIncrement is a full barrier) and then checks, backing out when the device is not in D0.
 */
export function* Io(k: Kernel, s: PowerState, countFirst: boolean) {
  for (let r = 1; r <= IO_ROUNDS; ) {
    if (countFirst) {
      yield* k.InterlockedIncrement(s.outstanding);
      if ((yield* k.ReadNoFence(s.power)) !== D0) {
        yield* k.InterlockedDecrement(s.outstanding);
        yield* k.KeWaitForSingleObject(s.poweredOn, Executive, KernelMode, false, null);
        continue;
      }
    } else {
      const irql = yield* k.KeAcquireSpinLock(s.lock);
      const state = yield* k.ReadNoFence(s.power);
      yield* k.KeReleaseSpinLock(s.lock, irql);
      if (state !== D0) {
        yield* k.KeWaitForSingleObject(s.poweredOn, Executive, KernelMode, false, null);
        continue;
      }
      // BUG: the power path can see zero outstanding requests between the check above and this increment.
      yield* k.InterlockedIncrement(s.outstanding);
    }
    yield* ProgramHardware(k, s);
    yield* k.InterlockedDecrement(s.outstanding);
    r++;
  }
}

/**
 * The power path (IRP_MN_SET_POWER for D3, then for D0), POWER_CYCLES times: mark the device D3, wait for
 * outstanding requests to drain, unmap the registers (MmUnmapIoSpace) and power down; then power up, map the
 * registers again, restore them, and mark the device D0.
 */
export function* Power(k: Kernel, s: PowerState) {
  for (let c = 0; c < POWER_CYCLES; c++) {
    yield* k.KeClearEvent(s.poweredOn);
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    yield* k.InterlockedExchange(s.power, D3);
    yield* k.KeReleaseSpinLock(s.lock, irql);
    while ((yield* k.ReadNoFence(s.outstanding)) !== 0) yield* k.YieldProcessor();
    const old = yield* k.ReadNoFence(s.regs);
    yield* k.ExFreePool(old);
    k.poke(s.tally, 0); // bookkeeping: the hardware is off from the unmap on
    // D3 -> D0: map the registers again and restore their context before publishing the new mapping.
    const block = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * REG_WORDS, 'Regs');
    for (let w = 0; w < REG_WORDS; w++) yield* k.WriteNoFence(block + w, REG_DATA + w);
    k.poke(s.tally, 1);
    // Published with a release: a request that loads the new mapping sees the restored registers (on ARM64 too).
    yield* k.WriteRelease(s.regs, block);
    const irql2 = yield* k.KeAcquireSpinLock(s.lock);
    yield* k.InterlockedExchange(s.power, D0);
    yield* k.KeReleaseSpinLock(s.lock, irql2);
    yield* k.KeSetEvent(s.poweredOn, 0, false);
  }
}

export const powerInvariants = {
  'no register access in D3': (s: PowerState, k: Kernel) =>
    k.peek(s.tally + 1) === 0 || 'a request read the device registers through the mapping the power path had unmapped on the way to D3',
};

export default defineScenario<PowerState>({
  id: 'power/check-then-count',
  title: 'Power-down races I/O: a request checks D0 before it counts itself outstanding',
  family: 'power',
  variant: 'buggy',
  pairedWith: 'power/count-then-check',
  description:
    'A device idles down to D3 and wakes to D0 twice while three I/O paths (read, write, device control) send ' +
    'five requests each. Each request takes the extension spin lock, checks that the device is in D0, drops ' +
    'the lock and only then does InterlockedIncrement(&OutstandingIo) before it reads the status registers and ' +
    'rings the doorbell through the mapped register block. The power path marks the device D3 under the same ' +
    'lock, waits for OutstandingIo to reach zero, unmaps the registers (MmUnmapIoSpace) and powers down; on ' +
    'the way back to D0 it maps the registers again, restores them and publishes the new mapping. A request ' +
    'that passed the D0 check but has not yet counted itself is invisible to the power path. The failure ' +
    'takes two preemptions: the request must stop between its check and its increment, and the power path ' +
    'must then stop between the unmap and publishing the new mapping, so that the request reads the stale ' +
    'one. (If the power path gets all the way back to D0 first, the late request uses the new mapping and ' +
    'nothing shows.) Checked builds stop with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5) at the register ' +
    'read (the mapping is modelled as a pool block, so special pool catches it); a free build reads registers ' +
    'of a powered-down device. Counting the request outstanding before checking the power state closes the ' +
    'window (power/count-then-check).',
  setup: setUpPower,
  actors: {
    read: { cpu: 0, *run(k, s) { yield* Io(k, s, false); } },
    write: { cpu: 1, *run(k, s) { yield* Io(k, s, false); } },
    ioctl: { cpu: 2, *run(k, s) { yield* Io(k, s, false); } },
    power: { cpu: 3, *run(k, s) { yield* Power(k, s); } },
  },
  invariants: powerInvariants,
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no register access in D3' } },
  ],
});
