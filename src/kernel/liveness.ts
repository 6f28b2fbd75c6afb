/**
 * Liveness failures with a name: a run that ends stuck because of a known
 * driver mistake says which one, instead of a generic hang.
 *
 * - 'irp-pending-never-completed': an IRP marked pending (IoMarkIrpPending)
 *   that nobody completed by the end of the run (irp.ts reports it).
 * - 'rundown-never-drains': ExWaitForRundownProtectionRelease waits for
 *   protections that are never released.
 * - 'remove-lock-wait-never-returns': IoReleaseRemoveLockAndWait waits for
 *   holders that never call IoReleaseRemoveLock.
 *
 * The waiting routines note where their wait began (waitBegins/waitEnds); when
 * nothing can run any more, namedStuck finds a thread still inside such a wait.
 * Only those two routines pay for it, never the per-step path.
 */
import type { ExecContext } from '../machine/cpu.ts';
import type { LivenessInfo } from '../machine/machine.ts';
import type { Kernel } from './kernel.ts';

export const IRP_PENDING_NEVER_COMPLETED = 'irp-pending-never-completed';
export const RUNDOWN_NEVER_DRAINS = 'rundown-never-drains';
export const REMOVE_LOCK_WAIT_NEVER_RETURNS = 'remove-lock-wait-never-returns';

/** Every liveness name `expect: { liveness }` accepts. */
export const LIVENESS_NAMES: readonly string[] = [IRP_PENDING_NEVER_COMPLETED, RUNDOWN_NEVER_DRAINS, REMOVE_LOCK_WAIT_NEVER_RETURNS];

interface OpenWait {
  ctx: ExecContext;
  name: string;
  api: string;
  object: number;
  /** What the waiter waits for, read when the run is found stuck. */
  describe: (k: Kernel) => string;
  step: number;
}

class LivenessState {
  readonly open: OpenWait[] = [];
}

function state(k: Kernel): LivenessState {
  return k.perRun('liveness', () => new LivenessState());
}

/** The calling context starts a wait that only other contexts can end. */
export function waitBegins(k: Kernel, name: string, api: string, object: number, describe: (k: Kernel) => string): void {
  state(k).open.push({ ctx: k.m.cur, name, api, object, describe, step: k.m.step });
}

/** The calling context's wait on `object` returned. */
export function waitEnds(k: Kernel, object: number): void {
  const open = state(k).open;
  const ctx = k.m.cur;
  for (let i = open.length - 1; i >= 0; i--) {
    if (open[i]!.ctx === ctx && open[i]!.object === object) {
      open.splice(i, 1);
      return;
    }
  }
}

/** Nothing can run: the first context still inside a noted wait, as a named failure. */
export function namedStuck(k: Kernel): (LivenessInfo & { message: string }) | null {
  const st = k.ext.get('liveness') as LivenessState | undefined;
  if (st === undefined) return null;
  for (const w of st.open) {
    if (w.ctx.finished) continue;
    const who = `${w.ctx.kind} '${w.ctx.name}' on CPU ${w.ctx.cpu.index}`;
    const what = w.name === RUNDOWN_NEVER_DRAINS
      ? `the rundown of ${k.m.nameOf(w.object)} never drains`
      : `IoReleaseRemoveLockAndWait on ${k.m.nameOf(w.object)} never returns`;
    return {
      name: w.name,
      step: w.step,
      message: `${what}: ${who} has waited in ${w.api} since step ${w.step} for ${w.describe(k)}`,
    };
  }
  return null;
}
