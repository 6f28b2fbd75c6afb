import { defineScenario, Executive, KernelMode, KTIMER_WORDS, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// WDK "Timer Objects and DPCs": KeCancelTimer stops future expiries but not a DPC the timer queued already;
// KeFlushQueuedDpcs waits for that one. Both, in that order, before DriverUnload returns.

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
  id: 'timer/cancel-and-flush',
  title: 'DriverUnload cancels the poll timer and flushes its DPC before returning',
  family: 'timer',
  variant: 'correct',
  pairedWith: 'timer/unload-without-cancel',
  description:
    'The same driver as timer/unload-without-cancel: IRP_MN_START_DEVICE starts a periodic 10 ms poll timer with a ' +
    'DPC. DriverUnload first calls KeCancelTimer, so the timer leaves the system timer queue and queues no more DPCs; ' +
    'then KeFlushQueuedDpcs, because an expiry just before the cancel may have queued the DPC already (KeCancelTimer ' +
    'does not remove it), or it may be running on another processor. Only then does it return. Whatever the moment ' +
    'the timer expires — before, between or after those two calls — nothing of the driver is left to run once the ' +
    'image is gone, on a free build and under Driver Verifier.',
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
        yield* k.KeWaitForSingleObject(s.started, Executive, KernelMode, false, null);
        yield* k.KeCancelTimer(s.pollTimer);
        yield* k.KeFlushQueuedDpcs();
      },
    },
  },
  invariants: {
    'timer cancelled': (s, k) => k.peek(s.pollTimer + 2) === 0 || 'PollTimer is still in the timer queue after DriverUnload',
  },
  expect: 'pass',
});
