/**
 * Driver unload. A scenario marks one thread actor as the driver's DriverUnload routine
 * (`unload: true`); when that routine returns the driver is unloading, and once nothing the I/O
 * manager counts holds the driver (a work item queued or running keeps a reference on its device
 * object, hence on the driver: IoQueueWorkItem) its image is unloaded — the driver's code and
 * global data are gone.
 *
 * From then on, the kernel calling one of the driver's routines (a DPC, a timer's DPC) executes
 * unloaded code: DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS (0xCE), parameter 1 the
 * address referenced (the routine), 2 = 0 (read), 3 the address that referenced it (the same:
 * the processor jumped there), 4 reserved.
 *
 * At the moment the image goes away the box runs UNLOAD_CHECKS, the checks Windows (with Driver
 * Verifier on a checked build) makes as a driver's image is unloaded. Another family adds its
 * check to that list (see UnloadCheck).
 *
 * The driver's routines have no machine addresses: each gets one inside a stand-in image range
 * (DRIVER_IMAGE_START..DRIVER_IMAGE_END, byte addresses), in the order the run first names them,
 * so bug-check parameters point into "the driver".
 */
import { BugCheck } from '../machine/bugcheck.ts';
import { OP_KERNEL, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';

/** The driver image's stand-in range (byte addresses) that its routines' addresses fall in. */
export const DRIVER_IMAGE_START = 0x7e000000;
export const DRIVER_IMAGE_END = 0x7e00ffff;
const ROUTINE_SPACING = 0x40;

/** Where the driver is in its unload. */
export const DRIVER_LOADED = 0;
/** DriverUnload returned; the image stays while the I/O manager holds references (work items). */
export const DRIVER_UNLOADING = 1;
/** The image is gone: calling into the driver is 0xCE. */
export const DRIVER_UNLOADED = 2;

/** The driver's unload state for one run (per processor: the controlled engine has one). */
export class DriverState {
  phase = DRIVER_LOADED;
  /** References the I/O manager holds on the driver's device objects (queued or running work items). */
  references = 0;
  /** Who holds each of them (a work item's routine name), for reports. */
  readonly holders: string[] = [];
  /** Step at which DriverUnload returned (-1 before). */
  unloadReturnedAt = -1;
  /** Name of the actor that is the driver's unload routine. */
  unloadRoutine = '';
  /** The pool tags that are the driver's own (scenario.driverTags), checked for leaks at unload. */
  poolTags?: readonly string[] | 'all';
  private readonly addresses = new Map<unknown, number>();

  /** The stand-in address of one of the driver's routines (stable within a run). */
  addressOf(routine: unknown): number {
    let a = this.addresses.get(routine);
    if (a === undefined) {
      a = DRIVER_IMAGE_START + ROUTINE_SPACING * (this.addresses.size + 1);
      this.addresses.set(routine, a);
    }
    return a;
  }
}

/** The driver's state for this run. */
export function driverState(k: Kernel): DriverState {
  return k.perRun('unload', () => new DriverState());
}

/** The driver's state if this run has one yet (no allocation): for checks on delivery paths. */
function existingState(k: Kernel): DriverState | undefined {
  return k.ext.get('unload') as DriverState | undefined;
}

/**
 * A check made as the driver's image is unloaded: returns the violation to raise, or null. It may
 * look at anything the kernel knows (k.m.checked for Verifier-only checks). Add one to
 * UNLOAD_CHECKS; they run in list order and the first violation ends the run.
 */
export type UnloadCheck = (k: Kernel, driver: DriverState) => BugCheck | null;

/**
 * Verifier at image unload (checked build): a DPC still queued whose routine is the driver's is
 * TIMER_OR_DPC_INVALID (0xC7): parameter 1 = 2 (a DPC routine in the range being checked), 2 the
 * routine's address, 3 and 4 the range (the unloading image).
 */
function queuedDpcsAtUnload(k: Kernel, driver: DriverState): BugCheck | null {
  if (!k.m.checked) return null;
  for (const cpu of k.m.online) {
    for (const d of cpu.dpcQueue) {
      const entry = k.dpcs.routines.get(d.dpc);
      if (!entry) continue;
      const a = driver.addressOf(entry.routine);
      return new BugCheck(
        0xc7, 2, a, DRIVER_IMAGE_START, DRIVER_IMAGE_END,
        `Driver Verifier at unload: DPC ${k.m.nameOf(d.dpc)} is still queued on CPU ${cpu.index}, and its routine '${entry.name}' ` +
          `(0x${a.toString(16)}) is in the image being unloaded (KeRemoveQueueDpc or KeFlushQueuedDpcs before DriverUnload returns)`,
      );
    }
  }
  return null;
}

/** Registered from the families that own the state they check (timer.ts, …): see registerUnloadCheck. */
const UNLOAD_CHECKS: UnloadCheck[] = [queuedDpcsAtUnload];

/**
 * Adds a check to the list run at image unload (call at module load, once per check; the order of
 * registration is the order they run in).
 */
export function registerUnloadCheck(check: UnloadCheck): void {
  if (!UNLOAD_CHECKS.includes(check)) UNLOAD_CHECKS.push(check);
}

/** The registered unload checks, in the order they run. */
export function unloadChecks(): readonly UnloadCheck[] {
  return UNLOAD_CHECKS;
}

/**
 * An end-of-run check for what the driver left behind (registered by a family when the driver
 * unloads): a still-set timer whose DPC would run in the unloaded image, for instance.
 */
export type LeftBehindCheck = (k: Kernel, driver: DriverState) => BugCheck | null;
const LEFT_BEHIND_CHECKS: LeftBehindCheck[] = [];

/** Adds a check run at the end of a run in which the driver unloaded. */
export function registerLeftBehindCheck(check: LeftBehindCheck): void {
  if (!LEFT_BEHIND_CHECKS.includes(check)) LEFT_BEHIND_CHECKS.push(check);
}

/** Whether the driver's image is gone (a plain read; false in a run without an unload actor). */
export function driverUnloaded(k: Kernel): boolean {
  const st = existingState(k);
  return st !== undefined && st.phase === DRIVER_UNLOADED;
}

/** 0xCE for the kernel calling `routine` (named `name`, a `what`) after the driver's image was unloaded. */
export function unloadedCodeBugCheck(k: Kernel, routine: unknown, name: string, what: string): BugCheck {
  const st = driverState(k);
  const a = st.addressOf(routine);
  return new BugCheck(
    0xce, a, 0, a, 0,
    `${what} '${name}' runs after the driver unloaded: its routine at 0x${a.toString(16)} is in the unloaded image ` +
      `('${st.unloadRoutine}' returned at step ${st.unloadReturnedAt} without cancelling it)`,
  );
}

/**
 * Called by the kernel just before it calls one of the driver's routines: throws 0xCE if the
 * driver's image is gone. Cheap when the run has no unload actor.
 */
export function checkDriverCode(k: Kernel, routine: unknown, name: string, what: string): void {
  const st = existingState(k);
  if (st !== undefined && st.phase === DRIVER_UNLOADED) throw unloadedCodeBugCheck(k, routine, name, what);
}

/** The I/O manager takes a reference on the driver (IoQueueWorkItem: on the work item's device object) for `holder`. */
export function referenceDriver(k: Kernel, holder: string): void {
  const st = driverState(k);
  st.references++;
  st.holders.push(holder);
}

/** Drops `holder`'s reference; the last one after DriverUnload returned unloads the image. */
export function dereferenceDriver(k: Kernel, holder: string): void {
  const st = driverState(k);
  st.references--;
  const i = st.holders.indexOf(holder);
  if (i >= 0) st.holders.splice(i, 1);
  if (st.references === 0 && st.phase === DRIVER_UNLOADING) unloadImage(k, st);
}

/**
 * What a run that can no longer progress leaves of the driver's unload, for the stuck report: an
 * unload that work items still hold up, DPCs of the driver still queued after DriverUnload
 * returned. Null when the run has no unload or nothing of it is pending.
 */
export function unloadStuckNote(k: Kernel): string | null {
  const st = existingState(k);
  if (st === undefined || st.phase === DRIVER_LOADED) return null;
  const notes: string[] = [];
  if (st.phase === DRIVER_UNLOADING && st.holders.length > 0) {
    notes.push(
      `DriverUnload ('${st.unloadRoutine}') returned at step ${st.unloadReturnedAt}, but the driver cannot unload: ` +
        `${st.holders.map((h) => `work item '${h}'`).join(', ')} still ${st.holders.length === 1 ? 'holds' : 'hold'} a reference on its device object (queued or running)`,
    );
  }
  for (const cpu of k.m.online) {
    for (const d of cpu.dpcQueue) {
      const entry = k.dpcs.routines.get(d.dpc);
      if (entry) notes.push(`DPC '${entry.name}' is still queued on CPU ${cpu.index} after DriverUnload ('${st.unloadRoutine}') returned`);
    }
  }
  return notes.length === 0 ? null : notes.join('; ');
}

/** DriverUnload returned: the image goes now, or when the last I/O-manager reference is dropped. */
function unloadRoutineReturned(k: Kernel, name: string): void {
  const st = driverState(k);
  st.phase = DRIVER_UNLOADING;
  st.unloadReturnedAt = k.m.step;
  st.unloadRoutine = name;
  k.m.endOfRunChecks.push(() => {
    for (const check of LEFT_BEHIND_CHECKS) {
      const v = check(k, st);
      if (v) throw v;
    }
    return null;
  });
  if (st.references === 0) unloadImage(k, st);
}

/** The image unloads: the unload checks run, then the driver's code is gone. */
function unloadImage(k: Kernel, st: DriverState): void {
  for (const check of UNLOAD_CHECKS) {
    const v = check(k, st);
    if (v) throw v;
  }
  st.phase = DRIVER_UNLOADED;
}

/**
 * The driver's unload routine as the engine runs it: the actor's own routine, and when it returns
 * the driver unloads. (Engine-side: scenario code never calls this.)
 */
export function* driverUnloadRoutine(k: Kernel, name: string, routine: Routine<unknown>): Routine<unknown> {
  const r = yield* routine;
  // The I/O manager's own step after DriverUnload returns: a DPC the routine's last act made
  // deliverable (KeLowerIrql) runs first, as it would inside that call on Windows.
  k.m.cur.apiStack.push('IopUnloadDriver');
  yield k.m.at(OP_KERNEL, 0);
  unloadRoutineReturned(k, name);
  k.m.cur.apiStack.pop();
  return r;
}
