/**
 * The classic litmus tests, written as Racebox actors over Windows' ordering APIs, with the
 * outcomes the published models allow or forbid on each architecture.
 *
 * Sources of the expected verdicts (the herdtools7 snapshot read for this table is commit
 * 5feffe4e8 of github.com/herd/herdtools7):
 * - x64: x86-TSO (Owens, Sarkar, Sewell, "A better x86 memory model: x86-TSO", TPHOLs 2009): only
 *   a store followed by a load of another address may be reordered (store buffering), stores are
 *   seen by all other processors at once, MFENCE (KeMemoryBarrier) drains the buffer.
 *   herdtools7 catalogue/x86_64/tests/kinds.txt (SB, R, SB+mfence+po Allow; MP, LB, S, 2+2W, WRC,
 *   SB+mfences, R+po+mfence Forbid) and catalogue/x86/tests/*.litmus for the shapes; IRIW and ISA2
 *   are forbidden because TSO is multi-copy atomic and keeps every other pair in order.
 * - arm64: ARMv8 as in Pulte, Flur, Deacon, French, Sarkar, Sewell, "Simplifying ARM concurrency:
 *   multicopy-atomic axiomatic and operational models for ARMv8", POPL 2018, and herdtools7's
 *   herd/libdir/aarch64.cat (catalogue/aarch64/cats/aarch64.cat links to it) with the orders it
 *   includes from herd/libdir/aarch64hwreqs.cat. Verdicts from catalogue/aarch64/tests/kinds.txt
 *   (SB, MP, LB, S, R, 2+2W Allowed; SB+dmb.sys, MP+dmb.sys, LB+dmb.sys, R+dmb.sys, 2+2W+dmb.sys,
 *   MP+rel+acq, SB+dmb.sy+rel-acq, CoRR, CoWR, CoWW Forbidden; MP+dmb.sy+po, S+dmb.sy+po Allowed)
 *   and catalogue/aarch64-readers-guide/tests/kinds.txt (WRC, IRIW, ISA2 Allowed; WRC+rel+addr,
 *   IRIW+dmb.lds Forbidden). The rest follow from aarch64hwreqs.cat: its Barrier-ordered-before
 *   has `[Exp & W & L]; po; [Exp & R & A]` (an LDAR is not performed before an earlier STLR:
 *   SB+rel+acq forbidden) and `[Exp & M]; po; [Exp & W & L]` (MP+rel+addr's stores in order); its
 *   Dependency-ordered-before has `addr` and `data` (MP+fence+addr, MP+rel+addr and, ARMv8 being
 *   other-multi-copy-atomic, WRC+data+addr forbidden), while MP+po+addr stays allowed (nothing
 *   orders the writer's two stores).
 *
 * Racebox's ARM64 model never lets a store pass an earlier load of the same processor (a
 * generator cannot run past a read before its value exists; docs/litmus.md):
 * an outcome that needs that reordering is marked `not-explored` for arm64 — allowed by ARMv8,
 * never shown by Racebox — and the conformance check asserts it does not appear.
 *
 * Registers are the values the actors read, numbered r0, r1, … in thread order; a register that
 * received a pointer holds 1 when it was the published one and 0 when it was the initial one.
 */
import type { Routine } from '../../machine/ops.ts';
import type { Kernel } from '../../kernel/kernel.ts';

/** The ordering APIs a litmus thread calls (src/kernel/ordering.ts). */
export interface OrderingApi {
  ReadNoFence(p: number): Routine<number>;
  WriteNoFence(p: number, value: number): Routine<void>;
  ReadPointerNoFence(p: number): Routine<number>;
  WritePointerNoFence(p: number, value: number): Routine<void>;
  ReadAcquire(p: number): Routine<number>;
  WriteRelease(p: number, value: number): Routine<void>;
  WritePointerRelease(p: number, value: number): Routine<void>;
  KeMemoryBarrier(): Routine<void>;
}
export type LitmusKernel = Kernel & OrderingApi;

export type Arch = 'x64' | 'arm64';
export const ARCHES: readonly Arch[] = ['x64', 'arm64'];

/**
 * allowed: the model allows it and the exploration must show it; forbidden: it must never appear;
 * not-explored: the model allows it but only through a reordering Racebox does not explore (a
 * store passing an earlier load), so it must not appear either.
 */
export type Expectation = 'allowed' | 'forbidden' | 'not-explored';

/** Addresses of a test's shared words, by name. */
export type Vars = Readonly<Record<string, number>>;

export interface FinalState {
  /** Registers r0, r1, … as the threads left them (-1: never read). */
  r: readonly number[];
  /** Final value of a shared word. */
  mem(name: string): number;
}

export interface LitmusTest {
  /** herd's name: SB, MP+rel+acq, … */
  name: string;
  /** The threads in one line each, in the notation of the docs. */
  shape: string[];
  /** Shared words, each its own pool block, 0 at the start. */
  vars: string[];
  /** Words that hold a pointer to another word at the start (a pointer test's initial target). */
  pointers?: Readonly<Record<string, string>>;
  registers: number;
  /** Thread i runs on processor i. */
  threads: ((k: LitmusKernel, v: Vars, r: number[]) => Routine<void>)[];
  outcome(f: FinalState): string;
  /** Every outcome the test can end in, with what each architecture's model says of it. */
  expected: Readonly<Record<string, Readonly<Record<Arch, Expectation>>>>;
  /** Where the verdicts of the interesting outcome come from, per architecture. */
  sources: Readonly<Record<Arch, string>>;
}

/** Why an outcome is `not-explored` on arm64. */
export const LOAD_STORE_REASON =
  'needs a store to pass an earlier load of the same processor; Racebox keeps load→store order (a thread cannot run past a read before its value exists)';

const A = { x64: 'allowed', arm64: 'allowed' } as const;
const TSO_FORBIDS = { x64: 'forbidden', arm64: 'allowed' } as const;
const BOTH_FORBID = { x64: 'forbidden', arm64: 'forbidden' } as const;

const regs = (f: FinalState): string => f.r.map((v, i) => `r${i}=${v}`).join(' ');

/** Every combination of 0/1 in `n` registers is allowed, except the listed ones. */
function binaryOutcomes(n: number, special: Record<string, Readonly<Record<Arch, Expectation>>>): Record<string, Readonly<Record<Arch, Expectation>>> {
  const out: Record<string, Readonly<Record<Arch, Expectation>>> = {};
  for (let bits = 0; bits < 1 << n; bits++) {
    const label = Array.from({ length: n }, (_, i) => `r${i}=${(bits >> (n - 1 - i)) & 1}`).join(' ');
    out[label] = special[label] ?? A;
  }
  for (const label of Object.keys(special)) if (!(label in out)) throw new Error(`litmus table: ${label} is not an outcome of ${n} registers`);
  return out;
}

const HERD = 'herdtools7 catalogue/aarch64/tests/kinds.txt';
const HERD_GUIDE = 'herdtools7 catalogue/aarch64-readers-guide/tests/kinds.txt';
const TSO = 'x86-TSO (Owens, Sarkar, Sewell 2009)';
const HERD_X86 = 'herdtools7 catalogue/x86_64/tests/kinds.txt';

/** MP's reader and writer in their variants: the pair every publication in a driver is. */
function mp(name: string, writer: 'po' | 'fence' | 'rel', reader: 'po' | 'fence' | 'acq', arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const w = { po: 'WriteNoFence(x, 1); WriteNoFence(y, 1)', fence: 'WriteNoFence(x, 1); KeMemoryBarrier(); WriteNoFence(y, 1)', rel: 'WriteNoFence(x, 1); WriteRelease(y, 1)' }[writer];
  const r = { po: 'r0 = ReadNoFence(y); r1 = ReadNoFence(x)', fence: 'r0 = ReadNoFence(y); KeMemoryBarrier(); r1 = ReadNoFence(x)', acq: 'r0 = ReadAcquire(y); r1 = ReadNoFence(x)' }[reader];
  return {
    name,
    shape: [w, r],
    vars: ['x', 'y'],
    registers: 2,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
        if (writer === 'fence') yield* k.KeMemoryBarrier();
        if (writer === 'rel') yield* k.WriteRelease(v.y!, 1);
        else yield* k.WriteNoFence(v.y!, 1);
      },
      function* (k, v, rr) {
        rr[0] = reader === 'acq' ? yield* k.ReadAcquire(v.y!) : yield* k.ReadNoFence(v.y!);
        if (reader === 'fence') yield* k.KeMemoryBarrier();
        rr[1] = yield* k.ReadNoFence(v.x!);
      },
    ],
    outcome: regs,
    expected: binaryOutcomes(2, { 'r0=1 r1=0': { x64: 'forbidden', arm64: arm } }),
    sources,
  };
}

/**
 * MP through a pointer: the writer fills in x, then publishes y = &x (y points to `empty`, a word
 * that stays 0, before); the reader loads the pointer and dereferences it — an address dependency,
 * the one dependency Racebox's model keeps. r0 = 1 when the reader got &x.
 */
function mpAddr(name: string, writer: 'po' | 'fence' | 'rel', arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const w = { po: 'WriteNoFence(x, 1); WritePointerNoFence(y, &x)', fence: 'WriteNoFence(x, 1); KeMemoryBarrier(); WritePointerNoFence(y, &x)', rel: 'WriteNoFence(x, 1); WritePointerRelease(y, &x)' }[writer];
  return {
    name,
    shape: [w, 'p = ReadPointerNoFence(y); r0 = (p == &x); r1 = ReadNoFence(p)   (y = &empty at the start)'],
    vars: ['x', 'y', 'empty'],
    pointers: { y: 'empty' },
    registers: 2,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
        if (writer === 'fence') yield* k.KeMemoryBarrier();
        if (writer === 'rel') yield* k.WritePointerRelease(v.y!, v.x!);
        else yield* k.WritePointerNoFence(v.y!, v.x!);
      },
      function* (k, v, rr) {
        const p = yield* k.ReadPointerNoFence(v.y!);
        rr[0] = p === v.x ? 1 : 0;
        rr[1] = yield* k.ReadNoFence(p);
      },
    ],
    outcome: regs,
    // Through &empty the reader reads 0: r0=0 r1=1 cannot happen, so it is not an outcome.
    expected: { 'r0=0 r1=0': A, 'r0=1 r1=1': A, 'r0=1 r1=0': { x64: 'forbidden', arm64: arm } },
    sources,
  };
}

/** SB in its variants: each processor stores its flag, then loads the other's (Dekker). */
function sb(name: string, kind: 'po' | 'fence' | 'relacq', x64: Expectation, arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const line = (mine: string, other: string, r: string): string =>
    kind === 'po' ? `WriteNoFence(${mine}, 1); ${r} = ReadNoFence(${other})`
      : kind === 'fence' ? `WriteNoFence(${mine}, 1); KeMemoryBarrier(); ${r} = ReadNoFence(${other})`
        : `WriteRelease(${mine}, 1); ${r} = ReadAcquire(${other})`;
  const thread = (mine: string, other: string, reg: number) =>
    function* (k: LitmusKernel, v: Vars, rr: number[]): Routine<void> {
      if (kind === 'relacq') yield* k.WriteRelease(v[mine]!, 1);
      else yield* k.WriteNoFence(v[mine]!, 1);
      if (kind === 'fence') yield* k.KeMemoryBarrier();
      rr[reg] = kind === 'relacq' ? yield* k.ReadAcquire(v[other]!) : yield* k.ReadNoFence(v[other]!);
    };
  return {
    name,
    shape: [line('x', 'y', 'r0'), line('y', 'x', 'r1')],
    vars: ['x', 'y'],
    registers: 2,
    threads: [thread('x', 'y', 0), thread('y', 'x', 1)],
    outcome: regs,
    expected: binaryOutcomes(2, { 'r0=0 r1=0': { x64: x64, arm64: arm } }),
    sources,
  };
}

function lb(name: string, fenced: boolean, arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const thread = (mine: string, other: string, reg: number) =>
    function* (k: LitmusKernel, v: Vars, rr: number[]): Routine<void> {
      rr[reg] = yield* k.ReadNoFence(v[other]!);
      if (fenced) yield* k.KeMemoryBarrier();
      yield* k.WriteNoFence(v[mine]!, 1);
    };
  const f = fenced ? ' KeMemoryBarrier();' : '';
  return {
    name,
    shape: [`r0 = ReadNoFence(x);${f} WriteNoFence(y, 1)`, `r1 = ReadNoFence(y);${f} WriteNoFence(x, 1)`],
    vars: ['x', 'y'],
    registers: 2,
    threads: [thread('y', 'x', 0), thread('x', 'y', 1)],
    outcome: regs,
    expected: binaryOutcomes(2, { 'r0=1 r1=1': { x64: 'forbidden', arm64: arm } }),
    sources,
  };
}

/** S: x=2; y=1 ‖ r0=y; x=1 — the outcome x=2 with r0=1 puts P1's store of x before P0's in coherence order. */
function s(name: string, fenced: boolean, arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const f = fenced ? ' KeMemoryBarrier();' : '';
  return {
    name,
    shape: [`WriteNoFence(x, 2);${f} WriteNoFence(y, 1)`, 'r0 = ReadNoFence(y); WriteNoFence(x, 1)'],
    vars: ['x', 'y'],
    registers: 1,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 2);
        if (fenced) yield* k.KeMemoryBarrier();
        yield* k.WriteNoFence(v.y!, 1);
      },
      function* (k, v, rr) {
        rr[0] = yield* k.ReadNoFence(v.y!);
        yield* k.WriteNoFence(v.x!, 1);
      },
    ],
    outcome: (f) => `x=${f.mem('x')} r0=${f.r[0]}`,
    expected: { 'x=1 r0=0': A, 'x=1 r0=1': A, 'x=2 r0=0': A, 'x=2 r0=1': { x64: 'forbidden', arm64: arm } },
    sources,
  };
}

/** R: x=1; y=1 ‖ y=2; r0=x — y=2 at the end with r0=0 needs P1's store to wait behind its load. */
function r(name: string, fenced: boolean, x64: Expectation, arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const f = fenced ? ' KeMemoryBarrier();' : '';
  return {
    name,
    shape: [`WriteNoFence(x, 1);${f} WriteNoFence(y, 1)`, `WriteNoFence(y, 2);${f} r0 = ReadNoFence(x)`],
    vars: ['x', 'y'],
    registers: 1,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
        if (fenced) yield* k.KeMemoryBarrier();
        yield* k.WriteNoFence(v.y!, 1);
      },
      function* (k, v, rr) {
        yield* k.WriteNoFence(v.y!, 2);
        if (fenced) yield* k.KeMemoryBarrier();
        rr[0] = yield* k.ReadNoFence(v.x!);
      },
    ],
    outcome: (f) => `y=${f.mem('y')} r0=${f.r[0]}`,
    expected: { 'y=1 r0=0': A, 'y=1 r0=1': A, 'y=2 r0=1': A, 'y=2 r0=0': { x64, arm64: arm } },
    sources,
  };
}

function twoPlusTwoW(name: string, fenced: boolean, arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const thread = (first: string, second: string) =>
    function* (k: LitmusKernel, v: Vars): Routine<void> {
      yield* k.WriteNoFence(v[first]!, 2);
      if (fenced) yield* k.KeMemoryBarrier();
      yield* k.WriteNoFence(v[second]!, 1);
    };
  const f = fenced ? ' KeMemoryBarrier();' : '';
  return {
    name,
    shape: [`WriteNoFence(x, 2);${f} WriteNoFence(y, 1)`, `WriteNoFence(y, 2);${f} WriteNoFence(x, 1)`],
    vars: ['x', 'y'],
    registers: 0,
    threads: [thread('x', 'y'), thread('y', 'x')],
    outcome: (f) => `x=${f.mem('x')} y=${f.mem('y')}`,
    expected: { 'x=1 y=1': A, 'x=1 y=2': A, 'x=2 y=1': A, 'x=2 y=2': { x64: 'forbidden', arm64: arm } },
    sources,
  };
}

function iriw(name: string, fenced: boolean, arm: Expectation, sources: Record<Arch, string>): LitmusTest {
  const f = fenced ? ' KeMemoryBarrier();' : '';
  const reader = (first: string, second: string, reg: number) =>
    function* (k: LitmusKernel, v: Vars, rr: number[]): Routine<void> {
      rr[reg] = yield* k.ReadNoFence(v[first]!);
      if (fenced) yield* k.KeMemoryBarrier();
      rr[reg + 1] = yield* k.ReadNoFence(v[second]!);
    };
  return {
    name,
    shape: ['WriteNoFence(x, 1)', `r0 = ReadNoFence(x);${f} r1 = ReadNoFence(y)`, 'WriteNoFence(y, 1)', `r2 = ReadNoFence(y);${f} r3 = ReadNoFence(x)`],
    vars: ['x', 'y'],
    registers: 4,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
      },
      reader('x', 'y', 0),
      function* (k, v) {
        yield* k.WriteNoFence(v.y!, 1);
      },
      reader('y', 'x', 2),
    ],
    outcome: regs,
    expected: binaryOutcomes(4, { 'r0=1 r1=0 r2=1 r3=0': { x64: 'forbidden', arm64: arm } }),
    sources,
  };
}

export const LITMUS_TESTS: readonly LitmusTest[] = [
  sb('SB', 'po', 'allowed', 'allowed', { x64: `${TSO}; ${HERD_X86}: SB Allow`, arm64: `${HERD}: SB Allowed` }),
  sb('SB+fences', 'fence', 'forbidden', 'forbidden', { x64: `${HERD_X86}: SB+mfences Forbid`, arm64: `${HERD}: SB+dmb.sys Forbidden` }),
  sb('SB+rel+acq', 'relacq', 'allowed', 'forbidden', {
    x64: `${TSO}: WriteRelease and ReadAcquire are plain MOVs, so this is SB`,
    arm64: `aarch64hwreqs.cat bob: [Exp & W & L]; po; [Exp & R & A] — an LDAR is not performed before an earlier STLR (${HERD}: SB+dmb.sy+rel-acq Forbidden)`,
  }),
  mp('MP', 'po', 'po', 'allowed', { x64: `${HERD_X86}: MP Forbid`, arm64: `${HERD}: MP Allowed` }),
  mp('MP+fences', 'fence', 'fence', 'forbidden', { x64: `${TSO} (MP is forbidden already)`, arm64: `${HERD}: MP+dmb.sys Forbidden` }),
  mp('MP+rel+acq', 'rel', 'acq', 'forbidden', { x64: `${TSO} (MP is forbidden already)`, arm64: `${HERD}: MP+rel+acq Forbidden` }),
  mp('MP+fence+po', 'fence', 'po', 'allowed', { x64: `${TSO} (MP is forbidden already)`, arm64: `${HERD}: MP+dmb.sy+po Allowed (the reader's loads may be reordered)` }),
  mpAddr('MP+po+addr', 'po', 'allowed', { x64: `${TSO} (MP is forbidden already)`, arm64: 'aarch64.cat: nothing orders the writer\'s two stores (Pulte et al. 2018)' }),
  mpAddr('MP+fence+addr', 'fence', 'forbidden', { x64: `${TSO} (MP is forbidden already)`, arm64: 'aarch64hwreqs.cat: bob orders the stores across the DMB, dob: addr orders the loads (Pulte et al. 2018, MP+dmb.sy+addr)' }),
  mpAddr('MP+rel+addr', 'rel', 'forbidden', { x64: `${TSO} (MP is forbidden already)`, arm64: 'aarch64hwreqs.cat: bob [Exp & M]; po; [Exp & W & L] orders the stores, dob: addr the loads' }),
  lb('LB', false, 'not-explored', { x64: `${HERD_X86}: LB Forbid`, arm64: `${HERD}: LB Allowed; ${LOAD_STORE_REASON}` }),
  lb('LB+fences', true, 'forbidden', { x64: `${TSO} (LB is forbidden already)`, arm64: `${HERD}: LB+dmb.sys Forbidden` }),
  s('S', false, 'allowed', { x64: `${HERD_X86}: S Forbid`, arm64: `${HERD}: S Allowed (through the writer's two stores being reordered)` }),
  s('S+fence+po', true, 'not-explored', { x64: `${TSO} (S is forbidden already)`, arm64: `${HERD}: S+dmb.sy+po Allowed; ${LOAD_STORE_REASON}` }),
  r('R', false, 'allowed', 'allowed', { x64: `${HERD_X86}: R Allow`, arm64: `${HERD}: R Allowed` }),
  r('R+fences', true, 'forbidden', 'forbidden', { x64: `${HERD_X86}: R+po+mfence Forbid`, arm64: `${HERD}: R+dmb.sys Forbidden` }),
  twoPlusTwoW('2+2W', false, 'allowed', { x64: `${HERD_X86}: 2+2W Forbid`, arm64: `${HERD}: 2+2W Allowed` }),
  twoPlusTwoW('2+2W+fences', true, 'forbidden', { x64: `${TSO} (2+2W is forbidden already)`, arm64: `${HERD}: 2+2W+dmb.sys Forbidden` }),
  {
    name: 'WRC',
    shape: ['WriteNoFence(x, 1)', 'r0 = ReadNoFence(x); WriteNoFence(y, 1)', 'r1 = ReadNoFence(y); r2 = ReadNoFence(x)'],
    vars: ['x', 'y'],
    registers: 3,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
      },
      function* (k, v, rr) {
        rr[0] = yield* k.ReadNoFence(v.x!);
        yield* k.WriteNoFence(v.y!, 1);
      },
      function* (k, v, rr) {
        rr[1] = yield* k.ReadNoFence(v.y!);
        rr[2] = yield* k.ReadNoFence(v.x!);
      },
    ],
    outcome: regs,
    expected: binaryOutcomes(3, { 'r0=1 r1=1 r2=0': TSO_FORBIDS }),
    sources: { x64: `${HERD_X86}: WRC Forbid`, arm64: `${HERD_GUIDE}: WRC Allowed` },
  },
  {
    name: 'WRC+data+addr',
    shape: [
      'WriteNoFence(x, 1)',
      'r0 = ReadNoFence(x); WritePointerNoFence(y, &x + (r0 & 0))   (data dependency)',
      'p = ReadPointerNoFence(y); r1 = (p == &x); r2 = ReadNoFence(p)   (y = &empty at the start)',
    ],
    vars: ['x', 'y', 'empty'],
    pointers: { y: 'empty' },
    registers: 3,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
      },
      function* (k, v, rr) {
        const r0 = yield* k.ReadNoFence(v.x!);
        rr[0] = r0;
        yield* k.WritePointerNoFence(v.y!, v.x! + (r0 & 0));
      },
      function* (k, v, rr) {
        const p = yield* k.ReadPointerNoFence(v.y!);
        rr[1] = p === v.x ? 1 : 0;
        rr[2] = yield* k.ReadNoFence(p);
      },
    ],
    outcome: regs,
    // Through &empty the reader reads 0, so r1=0 r2=1 cannot happen.
    expected: { 'r0=0 r1=0 r2=0': A, 'r0=1 r1=0 r2=0': A, 'r0=0 r1=1 r2=0': A, 'r0=0 r1=1 r2=1': A, 'r0=1 r1=1 r2=1': A, 'r0=1 r1=1 r2=0': BOTH_FORBID },
    sources: { x64: `${HERD_X86}: WRC Forbid`, arm64: `aarch64.cat: other-multi-copy atomicity with dob: data and addr (aarch64hwreqs.cat; ${HERD_GUIDE}: WRC+rel+addr Forbidden)` },
  },
  iriw('IRIW', false, 'allowed', { x64: `${TSO}: stores are seen by all other processors in one order`, arm64: `${HERD_GUIDE}: IRIW Allowed (the readers' loads may be reordered)` }),
  iriw('IRIW+fences', true, 'forbidden', { x64: `${TSO}`, arm64: `${HERD_GUIDE}: IRIW+dmb.lds Forbidden (DMB SY orders at least as much)` }),
  {
    name: 'ISA2',
    shape: ['WriteNoFence(x, 1); WriteNoFence(y, 1)', 'r0 = ReadNoFence(y); WriteNoFence(z, 1)', 'r1 = ReadNoFence(z); r2 = ReadNoFence(x)'],
    vars: ['x', 'y', 'z'],
    registers: 3,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
        yield* k.WriteNoFence(v.y!, 1);
      },
      function* (k, v, rr) {
        rr[0] = yield* k.ReadNoFence(v.y!);
        yield* k.WriteNoFence(v.z!, 1);
      },
      function* (k, v, rr) {
        rr[1] = yield* k.ReadNoFence(v.z!);
        rr[2] = yield* k.ReadNoFence(v.x!);
      },
    ],
    outcome: regs,
    expected: binaryOutcomes(3, { 'r0=1 r1=1 r2=0': TSO_FORBIDS }),
    sources: { x64: `${TSO}: stores in order, loads in order`, arm64: `${HERD_GUIDE}: ISA2 Allowed` },
  },
  {
    name: 'CoRR',
    shape: ['WriteNoFence(x, 1)', 'r0 = ReadNoFence(x); r1 = ReadNoFence(x)'],
    vars: ['x'],
    registers: 2,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
      },
      function* (k, v, rr) {
        rr[0] = yield* k.ReadNoFence(v.x!);
        rr[1] = yield* k.ReadNoFence(v.x!);
      },
    ],
    outcome: regs,
    expected: binaryOutcomes(2, { 'r0=1 r1=0': BOTH_FORBID }),
    sources: { x64: `${TSO}: coherence`, arm64: `${HERD}: CoRR Forbidden` },
  },
  {
    name: 'CoWR',
    shape: ['WriteNoFence(x, 1); r0 = ReadNoFence(x)', 'WriteNoFence(x, 2)'],
    vars: ['x'],
    registers: 1,
    threads: [
      function* (k, v, rr) {
        yield* k.WriteNoFence(v.x!, 1);
        rr[0] = yield* k.ReadNoFence(v.x!);
      },
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 2);
      },
    ],
    // Reading the other store and then ending with one's own puts one's own store both before and after it.
    outcome: (f) => `x=${f.mem('x')} r0=${f.r[0]}`,
    expected: { 'x=1 r0=1': A, 'x=2 r0=1': A, 'x=2 r0=2': A, 'x=1 r0=2': BOTH_FORBID },
    sources: { x64: `${TSO}: coherence`, arm64: `${HERD}: CoWR Forbidden (here with a second writer)` },
  },
  {
    name: 'CoWW',
    shape: ['WriteNoFence(x, 1); WriteNoFence(x, 2)'],
    vars: ['x'],
    registers: 0,
    threads: [
      function* (k, v) {
        yield* k.WriteNoFence(v.x!, 1);
        yield* k.WriteNoFence(v.x!, 2);
      },
    ],
    outcome: (f) => `x=${f.mem('x')}`,
    expected: { 'x=2': A, 'x=1': BOTH_FORBID },
    sources: { x64: `${TSO}: coherence`, arm64: `${HERD}: CoWW Forbidden` },
  },
];

