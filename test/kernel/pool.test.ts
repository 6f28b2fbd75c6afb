import { describe, expect, it } from 'vitest';
import { DISPATCH_LEVEL, HIGH_LEVEL } from '../../src/machine/irql.ts';
import { NonPagedPool, PagedPool, POOL_FLAG_NON_PAGED, POOL_FLAG_PAGED } from '../../src/kernel/pool.ts';
import { CHECKED_MP, FREE_MP, runOnce, scn } from '../helpers.ts';

type S = { p: number };

function allocAt(irql: number, flags: number, legacyType?: number) {
  return scn<S>({
    setup: (k) => ({ p: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Keep') }),
    actors: {
      t: {
        *run(k) {
          const old = yield* k.KeRaiseIrql(irql);
          const b = legacyType === undefined ? k.ExAllocatePool2(flags, 8, 'Test') : k.ExAllocatePoolWithTag(legacyType, 8, 'Test');
          yield* k.WriteNoFence(b, 1);
          yield* k.ExFreePoolWithTag(b, 'Test');
          yield* k.KeLowerIrql(old);
        },
      },
    },
  });
}

describe('pool allocation IRQL rules', () => {
  it('non-paged pool at DISPATCH_LEVEL is fine; paged pool there is Verifier 0xC4/0x01 on a checked build', () => {
    expect(runOnce(CHECKED_MP, allocAt(DISPATCH_LEVEL, POOL_FLAG_NON_PAGED)).outcome).toBe('pass');
    const x = runOnce(CHECKED_MP, allocAt(DISPATCH_LEVEL, POOL_FLAG_PAGED));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure?.bugcheck?.params[0]).toBe(0x01);
    expect(x.failure?.bugcheck?.params[1]).toBe(DISPATCH_LEVEL);
    expect(x.failure?.message).toMatch(/paged pool \('Test', 8 bytes\) allocated at DISPATCH_LEVEL/);
  });

  it('legacy POOL_TYPE: PagedPool at DISPATCH_LEVEL is 0xC4/0x01, NonPagedPool above DISPATCH_LEVEL 0xC4/0x02', () => {
    expect(runOnce(CHECKED_MP, allocAt(DISPATCH_LEVEL, 0, PagedPool)).failure?.bugcheck?.params[0]).toBe(0x01);
    const x = runOnce(CHECKED_MP, allocAt(HIGH_LEVEL, 0, NonPagedPool));
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure?.bugcheck?.params[0]).toBe(0x02);
  });

  it('a free build lets paged pool through at DISPATCH_LEVEL (it works while the page is resident)', () => {
    expect(runOnce(FREE_MP, allocAt(DISPATCH_LEVEL, POOL_FLAG_PAGED)).outcome).toBe('pass');
  });

  it('freeing paged pool above APC_LEVEL is 0xC4/0x11; a zero-byte allocation 0xC4/0x00', () => {
    const free = scn<S>({
      setup: (k) => ({ p: k.ExAllocatePool2(POOL_FLAG_PAGED, 16, 'Pgd') }),
      actors: {
        t: {
          *run(k, s) {
            const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.ExFreePoolWithTag(s.p, 'Pgd');
            yield* k.KeLowerIrql(old);
          },
        },
      },
    });
    const x = runOnce(CHECKED_MP, free);
    expect(x.failure?.bugcheck?.params[0]).toBe(0x11);
    expect(x.failure?.message).toMatch(/paged pool p freed at DISPATCH_LEVEL/);
    const zero = scn<S>({ setup: (k) => ({ p: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 0, 'Zero') }), actors: { t: { *run(k) { yield* k.YieldProcessor(); } } } });
    const z = runOnce(CHECKED_MP, zero);
    expect(z.failure?.bugcheck?.code).toBe(0xc4);
    expect(z.failure?.bugcheck?.params[0]).toBe(0x00);
    expect(runOnce(FREE_MP, zero).outcome).toBe('pass');
  });
});
