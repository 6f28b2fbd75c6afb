/**
 * Kernel timers: KTIMER (WDK "Timer Objects and DPCs"; KeSetTimerEx, KeCancelTimer,
 * KeReadStateTimer). A KTIMER is a dispatcher object — a thread can wait on it — that the
 * system timer queue signals when its due time comes, queuing its DPC if it has one; a periodic
 * timer goes back into the queue for the next period.
 *
 * When a set timer expires is the strategy's choice (a 'timer' choice in the schedule string:
 * the timer's index in the order the run initialized its timers), so expiry replays. The box
 * keeps a clock in 100 ns units that starts at 0 and moves only when a timer expires (to its due
 * time): a set timer may expire at any later step, but never before a timer due earlier — timers
 * due at the same moment may expire in either order. Expiry is offered only while some context
 * is still live; a timer still set when everything has finished simply never expires in the run
 * (unless the driver has unloaded: see the left-behind check below). A run is a short stretch of
 * time: one timer expires at most MAX_EXPIRIES_PER_RUN times in it (enough for consecutive
 * expiries to race each other's DPCs), so a periodic timer a strategy favours cannot starve
 * everything else for ever.
 *
 * The DPC of a timer runs on the processor that set the timer (Windows keeps a timer in that
 * processor's timer table), unless KeSetTargetProcessorDpc says otherwise; SystemArgument1/2 are
 * the low and high parts of the expiry time. KeCancelTimer takes the timer out of the queue, but
 * a DPC the timer already queued stays queued: that is what KeFlushQueuedDpcs is for.
 *
 * Checked build (Driver Verifier): KeSetTimer(Ex) and KeCancelTimer above DISPATCH_LEVEL are
 * 0xC4/0xE5 ("a call to a kernel API at the incorrect IRQL"); a driver whose image unloads with a
 * timer still set whose DPC routine is the driver's is TIMER_OR_DPC_INVALID (0xC7, parameter 1 =
 * 2: the DPC routine lies in the memory range being checked, the unloading image). On a free
 * build the timer expires later and its DPC runs in the unloaded image: 0xCE.
 */
import { BugCheck, ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import type { AsyncEvent } from '../machine/machine.ts';
import { DISPATCH_LEVEL, irqlName } from '../machine/irql.ts';
import { OP_KERNEL, type Routine } from '../machine/ops.ts';
import { AddressMap } from '../machine/address-map.ts';
import { DH_SIGNAL_STATE, TimerNotificationObject, TimerSynchronizationObject, writeHeader } from './dispatcher-object.ts';
import { insertQueueDpc, type PKDPC } from './dpc.ts';
import type { Kernel } from './kernel.ts';
import { registerStateReader } from './state-readers.ts';
import {
  DRIVER_IMAGE_END, DRIVER_IMAGE_START, registerLeftBehindCheck, registerUnloadCheck, unloadedCodeBugCheck, type DriverState,
} from './unload.ts';
import { waitTest } from './wait.ts';

/** TIMER_TYPE. */
export const NotificationTimer = 0;
export const SynchronizationTimer = 1;

/** KTIMER layout (words): the DISPATCHER_HEADER (Type, SignalState), then the timer's own fields. */
/** 1 while the timer is in the system timer queue (set and not yet expired or cancelled). */
export const TIMER_INSERTED = 2;
/** The KDPC queued on expiry (0: none). */
export const TIMER_DPC = 3;
/** Period in milliseconds (0: one-shot). */
export const TIMER_PERIOD = 4;
export const KTIMER_WORDS = 8;

export type PKTIMER = number;

/** How often one timer may expire in a run. */
export const MAX_EXPIRIES_PER_RUN = 3;

/** 100 ns units per millisecond (KeSetTimerEx's Period is in milliseconds, DueTime in 100 ns units). */
const TICKS_PER_MS = 10_000;

/** One KTIMER of the run: its expiry is an event the strategy may choose while it is armed. */
class TimerEntry implements AsyncEvent {
  armed = false;
  cpu = 0;
  /** Due time on the box's clock (100 ns units) while the timer is set. */
  dueTime = 0;
  /** Expiries so far in this run. */
  expiries = 0;
  constructor(
    private readonly k: Kernel,
    readonly addr: PKTIMER,
    readonly index: number,
    public name: string,
  ) {}

  fire(): void {
    expire(this.k, this);
  }
}

/** The family's per-run state: every timer the run initialized, and the clock. */
export class TimerState {
  readonly byAddr = new AddressMap<TimerEntry>();
  readonly entries: TimerEntry[] = [];
  /** The box's interrupt time, in 100 ns units: moves to a timer's due time when it expires. */
  now = 0;
}

function tstate(k: Kernel): TimerState {
  return k.perRun('timer', () => new TimerState());
}

function entryOf(k: Kernel, timer: PKTIMER, api: string): TimerEntry {
  const e = tstate(k).byAddr.get(timer);
  if (!e) throw new ScenarioError(`${api}: ${k.m.nameOf(timer)} is not a timer (initialize it with KeInitializeTimer or KeInitializeTimerEx)`);
  return e;
}

/** Arms exactly the set timers due first: a timer may not expire before one due earlier. */
function rearm(k: Kernel): void {
  const st = tstate(k);
  const w = k.m.words;
  let first = Infinity;
  for (const e of st.entries) if (w[e.addr + TIMER_INSERTED] === 1 && e.dueTime < first) first = e.dueTime;
  for (const e of st.entries) e.armed = w[e.addr + TIMER_INSERTED] === 1 && e.dueTime === first && e.expiries < MAX_EXPIRIES_PER_RUN;
}

/**
 * KiTimerExpiration for one timer: the clock moves to its due time, the timer is signalled (its
 * waiters wake: all of them for a notification timer, one for a synchronization timer), a
 * periodic timer goes back into the queue, and its DPC is queued.
 */
function expire(k: Kernel, e: TimerEntry): void {
  const m = k.m;
  const st = tstate(k);
  const t = e.addr;
  if (e.dueTime > st.now) st.now = e.dueTime;
  e.expiries++;
  m.lockDispatcher();
  try {
    m.write(t + DH_SIGNAL_STATE, 1);
    waitTest(k, t, m.words[t]!);
    const period = m.read(t + TIMER_PERIOD);
    if (period > 0) e.dueTime = st.now + period * TICKS_PER_MS;
    else m.write(t + TIMER_INSERTED, 0);
  } finally {
    m.unlockDispatcher();
  }
  rearm(k);
  const dpc = m.read(t + TIMER_DPC);
  if (dpc !== 0) insertQueueDpc(k, dpc, st.now % 0x100000000 | 0, Math.floor(st.now / 0x100000000), m.cpus[e.cpu]);
}

/** Checked build: a timer routine called above DISPATCH_LEVEL (Verifier 0xC4/0xE5). */
function checkIrql(k: Kernel, api: string, timer: PKTIMER): void {
  const irql = k.m.cur.cpu.irql;
  if (k.m.checked && irql > DISPATCH_LEVEL) {
    throw verifierViolation(0xe5, irql, timer * 4, 0, `${api} called at ${irqlName(irql)} on ${k.m.nameOf(timer)} (allowed up to DISPATCH_LEVEL)`);
  }
}

/** The DPC routine a set timer would run, if it has a DPC the kernel knows. */
function timerDpcRoutine(k: Kernel, timer: PKTIMER): { routine: unknown; name: string; dpc: PKDPC } | null {
  const dpc = k.m.words[timer + TIMER_DPC]!;
  if (dpc === 0) return null;
  const entry = k.dpcs.routines.get(dpc);
  return entry ? { routine: entry.routine, name: entry.name, dpc } : null;
}

/**
 * Verifier at image unload (checked build): a timer still set whose DPC routine is the driver's is
 * TIMER_OR_DPC_INVALID (0xC7): parameter 1 = 2 (a DPC routine in the range being checked), 2 the
 * routine's address, 3 and 4 the range (the unloading image).
 */
function timersAtUnload(k: Kernel, driver: DriverState): BugCheck | null {
  if (!k.m.checked) return null;
  const st = k.ext.get('timer') as TimerState | undefined;
  if (!st) return null;
  for (const e of st.entries) {
    if (k.m.words[e.addr + TIMER_INSERTED] !== 1) continue;
    const d = timerDpcRoutine(k, e.addr);
    if (!d) continue;
    const a = driver.addressOf(d.routine);
    return new BugCheck(
      0xc7, 2, a, DRIVER_IMAGE_START, DRIVER_IMAGE_END,
      `Driver Verifier at unload: timer ${k.m.nameOf(e.addr)} is still set, and its DPC routine '${d.name}' (0x${a.toString(16)}) ` +
        `is in the image being unloaded (KeCancelTimer, then KeFlushQueuedDpcs, before DriverUnload returns)`,
    );
  }
  return null;
}

/**
 * The end of a run in which the driver unloaded: a timer still set would expire later and run its
 * DPC in the unloaded image — 0xCE, named, rather than a run that merely ends.
 */
function timersLeftBehind(k: Kernel): BugCheck | null {
  const st = k.ext.get('timer') as TimerState | undefined;
  if (!st) return null;
  for (const e of st.entries) {
    if (k.m.words[e.addr + TIMER_INSERTED] !== 1) continue;
    const d = timerDpcRoutine(k, e.addr);
    if (!d) continue;
    const b = unloadedCodeBugCheck(k, d.routine, d.name, `DPC of timer ${k.m.nameOf(e.addr)}`);
    return new BugCheck(
      b.code, ...b.params,
      `timer ${k.m.nameOf(e.addr)} was still set when the driver unloaded; when it expires its DPC routine '${d.name}' ` +
        `(0x${b.params[0].toString(16)}) runs in the unloaded image (KeCancelTimer was never called)`,
    );
  }
  return null;
}

registerUnloadCheck(timersAtUnload);
registerLeftBehindCheck(timersLeftBehind);

export const timerApi = {
  /**
   * Any IRQL (setup time, usually). Initializes a KTIMER of type NotificationTimer or
   * SynchronizationTimer, not signalled and not set: at `timer` (KTIMER_WORDS words of caller
   * storage, e.g. in a device extension) or, without an address, allocated. Returns its address.
   */
  KeInitializeTimerEx(this: Kernel, timer: PKTIMER | null | undefined, type: number, name?: string): PKTIMER {
    if (type !== NotificationTimer && type !== SynchronizationTimer) {
      throw new ScenarioError(`KeInitializeTimerEx: Type must be NotificationTimer or SynchronizationTimer (got ${type})`);
    }
    const m = this.m;
    let t: PKTIMER;
    if (timer) {
      t = timer;
      const block = m.memory.blockAt(t);
      if (!block || t + KTIMER_WORDS > block.addr + block.words) {
        throw new ScenarioError(`KeInitializeTimerEx: ${m.describeAddress(t)} is not allocated storage of ${KTIMER_WORDS} words (a KTIMER needs that many)`);
      }
    } else t = m.memory.alloc(KTIMER_WORDS, 'KTIMER');
    for (let i = 0; i < KTIMER_WORDS; i++) m.words[t + i] = 0;
    writeHeader(this, t, type === NotificationTimer ? TimerNotificationObject : TimerSynchronizationObject, 0);
    if (name !== undefined) m.names.set(t, name);
    const st = tstate(this);
    let e = st.byAddr.get(t);
    if (!e) {
      e = new TimerEntry(this, t, st.entries.length, `timer(${m.nameOf(t)})`);
      st.byAddr.set(t, e);
      st.entries.push(e);
      m.timers.push(e);
    }
    e.armed = false;
    return t;
  },

  /** Any IRQL. KeInitializeTimerEx with NotificationTimer. */
  KeInitializeTimer(this: Kernel, timer?: PKTIMER | null, name?: string): PKTIMER {
    return this.KeInitializeTimerEx(timer, NotificationTimer, name);
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Sets the timer: not signalled, due at `dueTime` (100 ns units; negative
   * = relative to now, positive = absolute), then every `period` ms if period > 0, queuing `dpc`
   * (a KDPC from KeInitializeDpc, or 0) at each expiry. A timer already set is cancelled and set
   * anew. Returns TRUE if the timer was already in the timer queue.
   */
  *KeSetTimerEx(this: Kernel, timer: PKTIMER, dueTime: number, period = 0, dpc: PKDPC = 0): Routine<boolean> {
    const m = this.m;
    m.cur.apiStack.push('KeSetTimerEx');
    const e = entryOf(this, timer, 'KeSetTimerEx');
    if (dpc !== 0 && !this.dpcs.routines.has(dpc)) throw new ScenarioError(`KeSetTimerEx: ${m.nameOf(dpc)} is not a DPC object (use k.KeInitializeDpc)`);
    if (!Number.isInteger(period) || period < 0) throw new ScenarioError(`KeSetTimerEx: Period must be a whole number of milliseconds ≥ 0 (got ${period})`);
    if (!Number.isFinite(dueTime)) throw new ScenarioError(`KeSetTimerEx: DueTime must be a number of 100 ns units (got ${dueTime})`);
    checkIrql(this, 'KeSetTimerEx', timer);
    yield m.at(OP_KERNEL, timer + TIMER_INSERTED);
    const st = tstate(this);
    let was: boolean;
    m.lockDispatcher();
    try {
      was = m.read(timer + TIMER_INSERTED) === 1;
      m.write(timer + DH_SIGNAL_STATE, 0);
      m.write(timer + TIMER_DPC, dpc);
      m.write(timer + TIMER_PERIOD, period);
      m.write(timer + TIMER_INSERTED, 1);
    } finally {
      m.unlockDispatcher();
    }
    e.dueTime = dueTime < 0 ? st.now - dueTime : Math.max(st.now, dueTime);
    e.cpu = m.cur.cpu.index;
    rearm(this);
    m.cur.apiStack.pop();
    return was;
  },

  /** IRQL ≤ DISPATCH_LEVEL. KeSetTimerEx without a period. */
  *KeSetTimer(this: Kernel, timer: PKTIMER, dueTime: number, dpc: PKDPC = 0): Routine<boolean> {
    return yield* this.KeSetTimerEx(timer, dueTime, 0, dpc);
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Takes the timer out of the timer queue: TRUE if it was there (it will
   * not expire, nor queue its DPC, for that setting), FALSE if it was not set or had expired. A DPC
   * the timer queued already is not removed, and one running is not waited for: KeFlushQueuedDpcs.
   */
  *KeCancelTimer(this: Kernel, timer: PKTIMER): Routine<boolean> {
    const m = this.m;
    m.cur.apiStack.push('KeCancelTimer');
    entryOf(this, timer, 'KeCancelTimer');
    checkIrql(this, 'KeCancelTimer', timer);
    yield m.at(OP_KERNEL, timer + TIMER_INSERTED);
    const was = m.read(timer + TIMER_INSERTED) === 1;
    if (was) m.write(timer + TIMER_INSERTED, 0);
    rearm(this);
    m.cur.apiStack.pop();
    return was;
  },

  /**
   * Any IRQL. TRUE if the timer is signalled (it expired since it was last set, and — for a
   * synchronization timer — no wait consumed that). A plain read: usable from invariants.
   */
  KeReadStateTimer(this: Kernel, timer: PKTIMER): boolean {
    return this.m.words[timer + DH_SIGNAL_STATE] !== 0;
  },
};

export type TimerApi = typeof timerApi;

// Already a plain read in driver code; registered so invariants and the scenario checker treat it like its siblings.
registerStateReader('KeReadStateTimer', (k, timer) => (k.m.words[timer + DH_SIGNAL_STATE] !== 0 ? 1 : 0));
