/**
 * Every member of `k` a scenario may use, declared once, with its kind:
 *
 * - 'routine': a scheduling point, a generator — called only as `yield* k.Name(…)`;
 * - 'plain': an ordinary call or property (initializers, allocators, k.peek/poke/name,
 *   NT_ASSERT, the readers invariants use, …).
 *
 * The kinds are read from the Kernel prototype (a generator method or not), so they cannot drift
 * from the code. The scenario checker (scenario/check-source.ts), the editor's completion and
 * docs/scenario-api.md (checked by a test) all read this list.
 */
import { Kernel, kernelRoutineOf } from './kernel.ts';
import { KERNEL_INTERNAL } from './internal-members.ts';
import { csqApi } from './csq.ts';
import { dispatcherApi } from './dispatcher.ts';
import { dpcApi } from './dpc.ts';
import { eresourceApi } from './eresource.ts';
import { fastMutexApi } from './fast-mutex.ts';
import { interlockedApi } from './interlocked.ts';
import { orderingApi } from './ordering.ts';
import { irpApi } from './irp.ts';
import { irqlApi } from './irql.ts';
import { listApi } from './list.ts';
import { poolApi } from './pool.ts';
import { queuedSpinLockApi } from './queued-spinlock.ts';
import { regionsApi } from './regions.ts';
import { removeLockApi } from './remove-lock.ts';
import { rundownApi } from './rundown.ts';
import { spinLockApi } from './spinlock.ts';
import { timerApi } from './timer.ts';
import { workItemApi } from './workitem.ts';
import { interruptApi } from './interrupt.ts';
import { rwSpinLockApi } from './rwspinlock.ts';
import { slistApi } from './slist.ts';

export type KernelMemberKind = 'routine' | 'plain';

export interface KernelMember {
  name: string;
  kind: KernelMemberKind;
  /** The kernel source file (family) that defines it: 'spinlock', 'irp', … ('kernel' for kernel.ts itself). */
  family: string;
  /** Parameter names as written in the kernel source, for completion ('' when it takes none). */
  params: string;
}

/** Which file each family's methods come from (the editor shows it beside a completion). */
const FAMILIES: [string, object][] = [
  ['irql', irqlApi], ['spinlock', spinLockApi], ['queued-spinlock', queuedSpinLockApi], ['dpc', dpcApi],
  ['interlocked', interlockedApi], ['pool', poolApi], ['dispatcher', dispatcherApi], ['regions', regionsApi],
  ['fast-mutex', fastMutexApi], ['eresource', eresourceApi], ['rundown', rundownApi], ['list', listApi],
  ['irp', irpApi], ['csq', csqApi], ['remove-lock', removeLockApi], ['timer', timerApi], ['workitem', workItemApi],
  ['interrupt', interruptApi], ['rwspinlock', rwSpinLockApi], ['slist', slistApi], ['ordering', orderingApi],
];

/** The parameter list of a function's source text (names and defaults, without `this:` or types). */
function paramsOf(fn: unknown): string {
  if (typeof fn !== 'function') return '';
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf('(');
  if (open < 0) return '';
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return src.slice(open + 1, i).split(',').map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('this')).join(', ');
  }
  return '';
}

function build(): KernelMember[] {
  const familyOf = new Map<string, string>();
  for (const [family, api] of FAMILIES) for (const name of Object.keys(api)) familyOf.set(name, family);
  const out: KernelMember[] = [];
  for (const name of Object.getOwnPropertyNames(Kernel.prototype)) {
    if (KERNEL_INTERNAL.has(name)) continue;
    const d = Object.getOwnPropertyDescriptor(Kernel.prototype, name)!;
    const routine = kernelRoutineOf(d.value);
    out.push({
      name,
      kind: routine ? 'routine' : 'plain',
      family: familyOf.get(name) ?? 'kernel',
      params: d.get ? '' : paramsOf(routine ?? d.value),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The scenario-facing kernel API, sorted by name. */
export const KERNEL_API: readonly KernelMember[] = build();

/** Names of the routines (called with yield*). */
export const KERNEL_ROUTINES: ReadonlySet<string> = new Set(KERNEL_API.filter((m) => m.kind === 'routine').map((m) => m.name));

/** Names of the plain members (ordinary calls and properties). */
export const KERNEL_PLAIN: ReadonlySet<string> = new Set(KERNEL_API.filter((m) => m.kind === 'plain').map((m) => m.name));
