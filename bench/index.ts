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

/**
 * The modules in the order they run, each imported only when it is about to
 * run: merely loading the others (the timed mode, free-run, the pool) before
 * the controlled-engine module measurably slowed the engine loop it times.
 */
export const benchModules: readonly { title: string; load: () => Promise<BenchModule>; optIn?: boolean }[] = [
  { title: 'controlled engine', load: async () => (await import('./engine.bench.ts')).default },
  { title: 'timed mode: spin-lock table', load: async () => (await import('./spinlock-table.bench.ts')).default },
  { title: 'free-run engine', load: async () => (await import('./free-run.bench.ts')).default },
  { title: 'exploration pool', load: async () => (await import('./pool.bench.ts')).default },
  // About a minute and a gigabyte of memory (200,000 runs into fake-indexeddb): only with --only 'history import'.
  { title: 'history import', load: async () => (await import('./history-import.bench.ts')).default, optIn: true },
  // Minutes to hours (a full search per scenario, strategy and seed): only with --only detection.
  { title: 'detection', load: async () => (await import('./detection.bench.ts')).default, optIn: true },
  // Minutes (alternating rounds of pct and the portfolio on every correct scenario): only with --only.
  { title: 'portfolio speed', load: async () => (await import('./portfolio-speed.bench.ts')).default, optIn: true },
  // Minutes (alternating rounds on arm64-quad and its x64 twin, every scenario that passes on both): only with --only.
  { title: 'arm64 speed', load: async () => (await import('./arch-speed.bench.ts')).default, optIn: true },
];
