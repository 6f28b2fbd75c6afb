/**
 * Which kernel objects are initialized, for a processor that did not
 * initialize them itself. Each family keeps its own table of the objects it
 * knows (every processor runs setup, so each knows setup's objects); an object
 * one processor initializes while the actors run is recorded here, in shared
 * kernel memory, so that another processor recognises it too. A family looks
 * here only when its own table does not know an address — with one processor
 * (the controlled engine) that means the address is no such object, and the
 * answer is the same.
 */
import type { Kernel } from './kernel.ts';

/** Kinds of registered objects (the family that initialized it). */
export const OBJ_DISPATCHER = 1;
export const OBJ_FAST_MUTEX = 2;
export const OBJ_GUARDED_MUTEX = 3;
export const OBJ_ERESOURCE = 4;
export const OBJ_IRP = 5;

const O_ADDR = 0;
const O_KIND = 1;

/** The registry entry of `addr`, or -1. */
function find(w: Int32Array<ArrayBufferLike>, k: Kernel, addr: number): number {
  const t = k.shared.objects;
  const end = t.end(w);
  for (let e = t.base; e < end; e += 2) if (w[e + O_ADDR] === addr) return e;
  return -1;
}

/**
 * Records that `addr` is now an object of `kind`. Any IRQL. When the registry is full the object
 * stays known to this processor only (registeredKind explains that to the others).
 */
export function registerObject(k: Kernel, addr: number, kind: number): void {
  const m = k.m;
  // With no context live, setup is running: every processor runs setup and knows its objects.
  if (m.live === 0) return;
  m.lockDispatcher();
  try {
    const w = m.kernelShared.use();
    let e = find(w, k, addr);
    if (e < 0) e = k.shared.objects.append(w);
    if (e < 0) return;
    w[e + O_ADDR] = addr;
    w[e + O_KIND] = kind;
  } finally {
    m.unlockDispatcher();
  }
}

/** Forgets `addr` (the object was deleted). */
export function unregisterObject(k: Kernel, addr: number): void {
  const m = k.m;
  m.lockDispatcher();
  try {
    const w = m.kernelShared.words;
    const e = find(w, k, addr);
    if (e >= 0) {
      w[e + O_ADDR] = 0;
      w[e + O_KIND] = 0;
    }
  } finally {
    m.unlockDispatcher();
  }
}

/** The kind `addr` was registered as, or 0. */
export function registeredKind(k: Kernel, addr: number): number {
  const w = k.m.kernelShared.words;
  const e = find(w, k, addr);
  return e < 0 ? 0 : w[e + O_KIND]!;
}
