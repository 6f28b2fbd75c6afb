import { afterEach, describe, expect, it } from 'vitest';
import { freeRunAvailability } from '../../src/engine/free/availability.ts';

describe('freeRunAvailability', () => {
  const saved = globalThis.SharedArrayBuffer;
  afterEach(() => {
    globalThis.SharedArrayBuffer = saved;
  });

  it('is available in Node', () => {
    expect(freeRunAvailability()).toEqual({ ok: true });
  });

  it('explains why it is unavailable without SharedArrayBuffer (a page that is not cross-origin isolated)', () => {
    (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
    const a = freeRunAvailability();
    expect(a.ok).toBe(false);
    if (!a.ok) {
      expect(a.reason).toMatch(/cross-origin isolated/);
      expect(a.reason).toMatch(/controlled engine works/);
    }
  });
});
