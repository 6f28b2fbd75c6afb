/**
 * The benchmark suite `racebox bench` runs. Each module measures in one
 * process and reports ratios against a baseline taken in the same run, so
 * figures from different machines can be compared.
 */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  ratio?: number;
  note?: string;
}

export interface BenchContext {
  /** Shorter runs for CI smoke checks. */
  quick: boolean;
  log: (s: string) => void;
}

export interface BenchModule {
  title: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export async function benchModules(): Promise<BenchModule[]> {
  return [
    (await import('./engine.bench.ts')).default,
    (await import('./spinlock-table.bench.ts')).default,
    (await import('./free-run.bench.ts')).default,
    (await import('./pool.bench.ts')).default,
  ];
}
