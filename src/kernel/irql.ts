/**
 * KeRaiseIrql / KeLowerIrql. Raising masks interrupts at or below the new
 * level on this CPU only; lowering below DISPATCH_LEVEL lets queued DPCs run
 * and a pending quantum end take effect (the machine delivers them after the
 * step). A checked build enforces Verifier's rules 0x30 and 0x31.
 */
import { verifierViolation, type BugCheck } from '../machine/bugcheck.ts';
import { DISPATCH_LEVEL, HIGH_LEVEL, SYNCH_LEVEL, type KIRQL } from '../machine/irql.ts';
import { OP_IRQL, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';

// The bug checks are built out of line: these routines run twice per critical section, and
// free-run inlines them into the caller only while they stay small.
function raiseViolation(old: KIRQL, newIrql: KIRQL): BugCheck {
  return verifierViolation(0x30, old, newIrql, 0);
}

/** Verifier 0x31: lowering to an IRQL above the current one (KeLowerIrql, KeReleaseSpinLock). */
export function lowerViolation(irql: KIRQL, newIrql: KIRQL, kind: string): BugCheck {
  return verifierViolation(0x31, irql, newIrql, kind === 'dpc' ? 1 : 0);
}

export const irqlApi = {
  KeGetCurrentIrql(this: Kernel): KIRQL {
    return this.m.cur.cpu.irql;
  },

  /** Any IRQL ≤ NewIrql. Returns the previous IRQL. */
  *KeRaiseIrql(this: Kernel, newIrql: KIRQL): Routine<KIRQL> {
    const m = this.m;
    yield m.at(OP_IRQL, 0);
    const cpu = m.cur.cpu;
    const old = cpu.irql;
    if ((newIrql < old || newIrql > HIGH_LEVEL) && m.checked) throw raiseViolation(old, newIrql);
    m.setIrql(cpu, newIrql);
    return old;
  },

  /** Must restore the value a matching raise returned: never lower than where the raise started. */
  *KeLowerIrql(this: Kernel, newIrql: KIRQL): Routine<void> {
    const m = this.m;
    yield m.at(OP_IRQL, 0);
    const ctx = m.cur;
    const cpu = ctx.cpu;
    if (newIrql > cpu.irql && m.checked) throw lowerViolation(cpu.irql, newIrql, ctx.kind);
    m.setIrql(cpu, newIrql);
  },

  *KeRaiseIrqlToDpcLevel(this: Kernel): Routine<KIRQL> {
    return yield* this.KeRaiseIrql(DISPATCH_LEVEL);
  },

  *KeRaiseIrqlToSynchLevel(this: Kernel): Routine<KIRQL> {
    return yield* this.KeRaiseIrql(SYNCH_LEVEL);
  },
};

export type IrqlApi = typeof irqlApi;
