/**
 * The spin-lock table of the timed mode (DESIGN.md section 8): naive
 * test-and-set, test-and-test-and-set and the in-stack queued (MCS) lock on
 * 1–32 logical CPUs, in bus operations and lock hand-offs per thousand
 * cycles of virtual time. Independent of the host: the figures come from the
 * cost model, not from the wall clock.
 */
import { runTimed } from '../src/engine/timed.ts';
import { DISPATCH_LEVEL } from '../src/machine/irql.ts';
import { validateRig, type Rig } from '../src/machine/rig.ts';
import { defineScenario, type Scenario } from '../src/scenario/define.ts';
import type { Kernel } from '../src/kernel/kernel.ts';
import type { Routine } from '../src/machine/ops.ts';
import type { BenchModule, BenchRow } from './index.ts';

export type LockKind = 'test-and-set' | 'test-and-test-and-set' | 'in-stack queued';

interface LockState {
  lock: number;
  counter: number;
}

function* criticalSection(k: Kernel, s: LockState, kind: LockKind): Routine<void> {
  if (kind === 'in-stack queued') {
    const h = yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
    yield* k.WriteNoFence(s.counter, (yield* k.ReadNoFence(s.counter)) + 1);
    yield* k.KeReleaseInStackQueuedSpinLock(h);
    return;
  }
  const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
  if (kind === 'test-and-set') {
    while (yield* k.InterlockedExchange(s.lock, 1));
  } else {
    while (yield* k.InterlockedExchange(s.lock, 1)) {
      while ((yield* k.ReadNoFence(s.lock)) !== 0) yield* k.YieldProcessor();
    }
  }
  yield* k.WriteNoFence(s.counter, (yield* k.ReadNoFence(s.counter)) + 1);
  yield* k.WriteNoFence(s.lock, 0);
  yield* k.KeLowerIrql(old);
}

/** `cpus` threads, one per CPU, each entering the critical section `rounds` times. */
export function lockScenario(kind: LockKind, cpus: number, rounds: number): Scenario {
  const actors: Record<string, { cpu: number; run(k: Kernel, s: LockState): Routine<void> }> = {};
  for (let i = 0; i < cpus; i++) {
    actors[`cpu${i}`] = {
      cpu: i,
      *run(k, s) {
        for (let r = 0; r < rounds; r++) yield* criticalSection(k, s, kind);
      },
    };
  }
  return defineScenario<LockState>({
    id: `bench/${kind.replace(/ /g, '-')}`,
    title: `${kind} lock, ${cpus} CPUs`,
    description: 'Timed-mode lock benchmark.',
    family: 'bench',
    // Lock and counter on separate cache lines, as a careful driver lays them out.
    setup: (k) => ({ lock: k.ExAllocatePool2(0, 128, 'Lock'), counter: k.ExAllocatePool2(0, 128, 'Cntr') }),
    actors,
    invariants: { 'mutual exclusion': (s, k) => k.peek(s.counter) === cpus * rounds || `counter ${k.peek(s.counter)}` },
    expect: 'pass',
  });
}

export function tableRig(cpus: number): Rig {
  const r = validateRig({
    id: `timed-${cpus}`,
    title: `${cpus} cores`,
    cores: cpus,
    threadsPerCore: 1,
    hal: 'mp',
    build: 'free',
    watchdog: { maxSteps: 50_000_000, dpcTimeoutSteps: 50_000_000 },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.rig;
}

export interface LockMeasurement {
  kind: LockKind;
  cpus: number;
  cycles: number;
  busOpsPerKcycle: number;
  handoffsPerKcycle: number;
  busOpsPerHandoff: number;
}

export function measureLock(kind: LockKind, cpus: number, rounds: number): LockMeasurement {
  const res = runTimed(tableRig(cpus), lockScenario(kind, cpus, rounds));
  if (res.outcome !== 'pass') throw new Error(`${kind} on ${cpus} CPUs: ${res.outcome} ${res.message ?? ''}`);
  const handoffs = cpus * rounds;
  return {
    kind,
    cpus,
    cycles: res.cycles,
    busOpsPerKcycle: (res.busOps * 1000) / res.cycles,
    handoffsPerKcycle: (handoffs * 1000) / res.cycles,
    busOpsPerHandoff: res.busOps / handoffs,
  };
}

const KINDS: LockKind[] = ['test-and-set', 'test-and-test-and-set', 'in-stack queued'];

const spinlockTable: BenchModule = {
  title: 'timed mode: spin-lock table',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const counts = ctx.quick ? [1, 2, 4, 8] : [1, 2, 4, 8, 16, 32];
    const rounds = ctx.quick ? 10 : 20;
    for (const kind of KINDS) {
      for (const cpus of counts) {
        const r = measureLock(kind, cpus, rounds);
        rows.push({
          name: `${kind.padEnd(22)} ${String(cpus).padStart(2)} CPUs: hand-offs per 1000 cycles`,
          value: Number(r.handoffsPerKcycle.toFixed(2)),
          unit: '/kcycle',
          note: `${r.busOpsPerKcycle.toFixed(2)} bus ops/kcycle, ${r.busOpsPerHandoff.toFixed(1)} bus ops per hand-off`,
        });
      }
    }
    return rows;
  },
};
export default spinlockTable;
