import { describe, expect, it } from 'vitest';
import { matchesSearch } from './catalog.ts';

const entry = {
  id: 'cancel/no-exchange-check',
  title: 'Cancelled IRP completed without checking',
  family: 'cancel',
  description: 'The dispatch routine completes an IRP whose cancel routine may already run.',
  seeds: ['002-irp-cancel'],
  variant: 'buggy' as const,
};

describe('scenario search', () => {
  it('matches the id as the CLI names it, the title, the primitive, the variant and the seed', () => {
    for (const q of ['cancel/no-exchange', 'NO-EXCHANGE', 'completed without', 'cancel', 'buggy', '002-irp', 'irp buggy', '']) {
      expect(matchesSearch(entry, q), q).toBe(true);
    }
  });

  it('needs every word to match', () => {
    expect(matchesSearch(entry, 'cancel correct')).toBe(false);
    expect(matchesSearch(entry, 'spinlock')).toBe(false);
  });
});
