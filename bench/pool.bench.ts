/**
 * Exploration on a worker pool: schedules per second of one controlled
 * exploration (spinlock/ke-spinlock on dual-opteron-240, random strategy)
 * on 1 and on 2 workers, measured over the time the workers spent exploring
 * (worker start-up, which loads TypeScript, is left out), and the speed-up.
 */
import { explorePool } from '../src/engine/pool.ts';
import { presetRig } from '../src/machine/presets.ts';
import { nodeExploreWorker } from '../src/workers/node-entry.ts';
import type { BenchModule, BenchRow } from './index.ts';

async function rate(workers: number, schedules: number): Promise<number> {
  const r = await explorePool(
    { scenario: { id: 'spinlock/ke-spinlock' }, rig: presetRig('dual-opteron-240')!, strategy: 'random', seed: 1, schedules },
    { workers, factory: () => nodeExploreWorker() },
  );
  if (r.outcome !== 'pass') throw new Error(`pool bench: unexpected ${r.outcome}`);
  return (r.schedulesRun * 1000) / r.busyMs;
}

const poolBench: BenchModule = {
  title: 'exploration pool',
  async run(ctx) {
    // Long enough that JIT warm-up in each fresh worker is a small part of the measured time.
    const schedules = ctx.quick ? 20_000 : 400_000;
    const one = await rate(1, schedules);
    const two = await rate(2, schedules);
    const rows: BenchRow[] = [
      { name: 'ke-spinlock exploration, 1 worker', value: Math.round(one), unit: 'schedules/s' },
      { name: 'ke-spinlock exploration, 2 workers', value: Math.round(two), unit: 'schedules/s', baseline: { name: '1 worker', value: Math.round(one) }, ratio: two / one },
    ];
    return rows;
  },
};
export default poolBench;
