import { describe, expect, it } from 'vitest';
import { formatBenchRow } from '../../bench/cli.ts';

describe('formatBenchRow', () => {
  it('shows the row ratio, or the value over the baseline', () => {
    const given = formatBenchRow({ name: 'twins', value: 500, unit: 'CS/s', baseline: { name: 'plain', value: 1000 }, ratio: 0.42 });
    expect(given).toContain('vs plain: 1,000 → 42%');
    const derived = formatBenchRow({ name: 'twins', value: 500, unit: 'CS/s', baseline: { name: 'plain', value: 1000 } });
    expect(derived).toContain('→ 50%');
  });

  it('has no ratio against a baseline that made no progress, instead of an infinite one', () => {
    const line = formatBenchRow({ name: 'queued, 4 CPUs', value: 10_000, unit: 'CS/s', baseline: { name: 'plain', value: 0 }, note: 'convoy' });
    expect(line).toContain('vs plain: 0 → no ratio');
    expect(line).not.toMatch(/Infinity|NaN/);
    expect(line).toContain('(convoy)');
  });

  it('prints a row without a baseline as the figure alone', () => {
    expect(formatBenchRow({ name: 'schedules/s', value: 48_974, unit: 'schedules/s' })).toMatch(/48,974 schedules\/s$/);
  });
});
