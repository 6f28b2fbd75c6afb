import 'fake-indexeddb/auto';
import type { Failure } from '../../src/engine/outcome.ts';
import type { TraceStep } from '../../src/engine/trace.ts';
import { openHistory, type History, type NewRun, type OpenHistoryOptions, type OutcomeKind, type StoredRun } from '../../src/history/index.ts';
import { presetRig } from '../../src/machine/presets.ts';
import type { Rig } from '../../src/machine/rig.ts';

let serial = 0;
export function dbName(): string {
  return `racebox-test-${process.pid}-${++serial}`;
}

export async function fresh(options: OpenHistoryOptions = {}): Promise<History> {
  return openHistory({ name: dbName(), ...options });
}

export const rigA: Rig = presetRig('dual-opteron-240')!;
export const rigB: Rig = presetRig('uniprocessor')!;

export function failure(kind: Failure['kind'] = 'deadlock'): Failure {
  return {
    kind,
    ...(kind === 'bugcheck'
      ? { bugcheck: { code: 68, name: 'MULTIPLE_IRP_COMPLETE_REQUESTS', params: [1, 2, 3, 4], meaning: 'an IRP was completed twice' } }
      : {}),
    message: `a ${kind}`,
    schedule: 'rb1.AAECAwQ-_',
    cpu: 1,
    routine: 'KeAcquireSpinLock',
    step: 42,
    cpus: [
      {
        cpu: 0,
        core: 0,
        irql: 2,
        irqlName: 'DISPATCH_LEVEL',
        thread: 'worker',
        stack: [{ kind: 'thread', name: 'worker', routineStack: ['Acquire'], heldLocks: ['lock'], spinningOn: 'lock' }],
        readyThreads: [],
        queuedDpcs: ['dpc'],
      },
      { cpu: 1, core: 1, irql: 0, irqlName: 'PASSIVE_LEVEL', thread: null, stack: [], readyThreads: ['t2'], queuedDpcs: [] },
    ],
    ...(kind === 'deadlock' ? { waits: [{ cpu: 0, context: 'worker', kind: 'thread' as const, irql: 2, state: 'spinning', address: 4096, owner: 'dpc' }] } : {}),
  };
}

export function sampleRun(o: { createdAt?: number; scenario?: string; rig?: Rig; outcome?: OutcomeKind; seed?: number } = {}): NewRun {
  const outcome = o.outcome ?? 'deadlock';
  return {
    ...(o.createdAt !== undefined ? { createdAt: o.createdAt } : {}),
    rig: o.rig ?? rigA,
    scenario: { id: o.scenario ?? 'spinlock/naive-tas', version: 1, title: 'A lock' },
    engine: 'controlled',
    strategy: 'pct',
    seed: o.seed ?? 7,
    budget: 1000,
    depth: 3,
    outcome,
    ...(outcome === 'pass' ? {} : { failure: failure(outcome) }),
    schedulesRun: 12,
    steps: 3456,
    elapsedMs: 12.5,
    ...(outcome === 'pass' ? {} : { failingSchedule: 11 }),
  };
}

export function traceSteps(n: number): TraceStep[] {
  return Array.from({ length: n }, (_, i) => ({
    step: i,
    cpu: i % 2,
    what: 'step' as const,
    context: 'worker',
    kind: 'thread',
    op: 'read',
    ...(i % 3 === 0 ? { address: 'lock' } : {}),
    routine: 'Acquire',
    irql: 0,
  }));
}

/**
 * Writes runs straight into the store in one transaction (no validation), for
 * large fixtures. Returns the stored runs, newest first as listRuns orders them.
 */
export async function seed(h: History, runs: NewRun[]): Promise<StoredRun[]> {
  const tx = h.db.transaction('runs', 'readwrite');
  const stored: StoredRun[] = [];
  for (const r of runs) {
    const rec = { createdAt: 1_700_000_000_000, ...r } as StoredRun;
    const id = await tx.store.add(rec);
    stored.push({ ...rec, id });
  }
  await tx.done;
  return stored.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
}
