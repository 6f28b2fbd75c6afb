import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { lockLoopRef, type LockKind } from '../../bench/fixtures/lock-loop.ts';
import { freeRun, type FreeRunOptions, type FreeRunSummary } from '../../src/engine/free/run.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { validateRig, type Rig } from '../../src/machine/rig.ts';
import { liveNodeWorkers, nodeFreeWorker } from '../../src/workers/node-entry.ts';

export function rig(id: string): Rig {
  const r = presetRig(id);
  if (!r) throw new Error(`no rig ${id}`);
  return r;
}

export function cpusRig(cpus: number, build: 'free' | 'checked' = 'free'): Rig {
  const r = validateRig({ id: `test-${cpus}cpu`, title: 'test', cores: cpus, hal: 'mp', build });
  if (!r.ok) throw new Error('rig');
  return r.rig;
}

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
/** The benchmark's lock loop (bench/fixtures/lock-loop.ts): `threads` threads, each taking the lock `rounds` times. */
export const loop = (kind: LockKind, rounds: number, threads?: number): string => lockLoopRef(kind, rounds, threads);

export function runFree(r: Rig, ref: string, o: FreeRunOptions = {}): Promise<FreeRunSummary> {
  return freeRun(r, { id: ref }, ref, () => nodeFreeWorker(), { hostCpus: availableParallelism(), ...o });
}

/** Waits until every worker thread the factories started has exited. */
export async function noWorkersLeft(timeoutMs = 3000): Promise<number> {
  const t0 = Date.now();
  while (liveNodeWorkers.size > 0 && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
  return liveNodeWorkers.size;
}
