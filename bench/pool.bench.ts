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
import { median, pct } from './stats.ts';

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
    // Long enough that JIT warm-up in each fresh worker is a small part of the measured time; one and
    // two workers alternate in rounds and each speed-up is taken within its round (the host's load drifts).
    const schedules = ctx.quick ? 20_000 : 1_000_000;
    const rounds = ctx.quick ? 1 : 3;
    const ones: number[] = [];
    const twos: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const one = await rate(1, schedules);
      const two = await rate(2, schedules);
      ones.push(one);
      twos.push(two);
      ratios.push(two / one);
    }
    const rows: BenchRow[] = [
      { name: 'ke-spinlock exploration, 1 worker', value: Math.round(median(ones)), unit: 'schedules/s', note: `${schedules} schedules per run` },
      {
        name: 'ke-spinlock exploration, 2 workers',
        value: Math.round(median(twos)),
        unit: 'schedules/s',
        baseline: { name: '1 worker', value: Math.round(median(ones)) },
        ratio: median(ratios),
        ...(rounds > 1 ? { note: `speed-ups ${ratios.map(pct).join(', ')} in ${rounds} rounds` } : {}),
      },
    ];
    return rows;
  },
};
export default poolBench;
