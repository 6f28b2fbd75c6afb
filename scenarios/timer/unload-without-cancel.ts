import { defineScenario, Executive, KernelMode, KTIMER_WORDS, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// WDK "Timer Objects and DPCs": a driver must cancel its timers (KeCancelTimer) and flush their DPCs
// (KeFlushQueuedDpcs) before DriverUnload returns; a timer left set expires later and calls into an unloaded image.

const POLL_INTERVAL = -10 * 10_000; // 10 ms, relative (100 ns units)
const POLL_PERIOD_MS = 10;

// Device extension layout (words).
const DEVEXT_POLL_TIMER = 0; // KTIMER PollTimer
const DEVEXT_POLL_DPC = KTIMER_WORDS; // KDPC PollDpc (7 words)
const DEVEXT_POLLS = KTIMER_WORDS + 8; // LONG Polls
const DEVEXT_BYTES = (KTIMER_WORDS + 10) * 4;

interface DeviceExtension {
  devExt: number;
  pollTimer: number;
  pollDpc: number;
  started: number;
}

/** The poll timer's DPC: reads the device's status and counts the polls. */
function* PollDpcRoutine(k: Kernel, _dpc: number, devExt: number) {
  yield* k.InterlockedIncrement(devExt + DEVEXT_POLLS);
}

export default defineScenario<DeviceExtension>({
  id: 'timer/unload-without-cancel',
  title: 'DriverUnload returns with the periodic poll timer still set',
  family: 'timer',
  variant: 'buggy',
  pairedWith: 'timer/cancel-and-flush',
  description:
    'IRP_MN_START_DEVICE starts a periodic poll timer in the device extension: KeSetTimerEx every 10 ms, with a DPC ' +
    'that polls the hardware. DriverUnload tears the device down but forgets the timer: it never calls KeCancelTimer, ' +
    'so the timer stays in the system timer queue after the driver image is gone. With Driver Verifier (checked rigs) ' +
    'the unload itself is stopped: TIMER_OR_DPC_INVALID (0xC7, parameter 1 = 2) — a set timer whose DPC routine lies ' +
    'in the image being unloaded. Without it, the next expiry queues the DPC and the processor jumps into unloaded ' +
    'code: DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS (0xCE), parameter 1 the routine\'s address. The fix ' +
    'is KeCancelTimer followed by KeFlushQueuedDpcs before DriverUnload returns (timer/cancel-and-flush).',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, DEVEXT_BYTES, 'DevX');
    const pollTimer = k.KeInitializeTimer(devExt + DEVEXT_POLL_TIMER, 'PollTimer');
    const pollDpc = k.name(k.KeInitializeDpc(devExt + DEVEXT_POLL_DPC, PollDpcRoutine, devExt, 'PollDpc'), 'PollDpc');
    const started = k.name(k.KeInitializeEvent(NotificationEvent, false), 'DeviceStarted');
    return { devExt, pollTimer, pollDpc, started };
  },
  actors: {
    startDevice: {
      cpu: 0,
      *run(k, s) {
        yield* k.KeSetTimerEx(s.pollTimer, POLL_INTERVAL, POLL_PERIOD_MS, s.pollDpc);
        yield* k.KeSetEvent(s.started, 0, false);
      },
    },
    driverUnload: {
      cpu: 1,
      unload: true,
      *run(k, s) {
        // The PnP manager unloads the driver only after the device was started and removed.
        yield* k.KeWaitForSingleObject(s.started, Executive, KernelMode, false, null);
        // BUG: no KeCancelTimer(PollTimer) / KeFlushQueuedDpcs: the timer outlives the image.
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'TIMER_OR_DPC_INVALID' } },
    { outcome: { bugcheck: 'DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS' } },
  ],
});
