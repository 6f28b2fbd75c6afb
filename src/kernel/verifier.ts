/**
 * Driver Verifier's deadlock detection: a lock-acquisition-order graph kept
 * over the whole run. Taking B while holding A adds the edge A→B; if B→…→A is
 * already known, the two orders can deadlock and Verifier stops the machine
 * with 0xC4/0x1001 — at the acquire, before any deadlock actually happens.
 *
 * The graph is one for the whole machine, as in Windows: its edges live in
 * shared kernel memory (shared-regions.ts), so the orders two processors take
 * meet in one graph whichever engine drives them. Each check holds the dispatcher lock: of two
 * CPUs taking the same two locks in opposite orders, the second to check sees
 * the first one's edge before either of them spins.
 */
import { ScenarioError, verifierViolation, type BugCheck } from '../machine/bugcheck.ts';
import type { SharedTable } from '../machine/shared-state.ts';
import type { Kernel } from './kernel.ts';
import { MAX_LOCK_ORDER_EDGES } from './shared-regions.ts';

export class Verifier {
  constructor(private readonly k: Kernel) {}

  /**
   * Records that `lock` is being acquired while `held` are held; returns the
   * violation to raise, or null. Any IRQL (it runs inside the acquire).
   */
  onAcquire(held: readonly number[], lock: number, thread: number, nameOf: (a: number) => string): BugCheck | null {
    // Nothing held, no edge: and no dispatcher lock, which free-run CPUs would contend for.
    if (held.length === 0) return null;
    const m = this.k.m;
    const graph = this.k.shared.lockOrder;
    const w = m.kernelShared.use();
    m.lockDispatcher();
    try {
      for (let i = 0; i < held.length; i++) {
        const h = held[i]!;
        if (h === lock) continue;
        if (reaches(w, graph, lock, h)) {
          return verifierViolation(
            0x1001, lock * 4, h * 4, thread * 4,
            `lock hierarchy violation: ${nameOf(lock)} is acquired while holding ${nameOf(h)}, but elsewhere ${nameOf(h)} is acquired while holding ${nameOf(lock)}`,
          );
        }
        addEdge(w, graph, h, lock);
      }
      return null;
    } finally {
      m.unlockDispatcher();
    }
  }
}

function addEdge(w: Int32Array<ArrayBufferLike>, graph: SharedTable, from: number, to: number): void {
  const end = graph.end(w);
  for (let at = graph.base; at < end; at += 2) {
    if (w[at] === from && w[at + 1] === to) return;
  }
  const at = graph.append(w);
  if (at < 0) {
    throw new ScenarioError(`Driver Verifier's lock-order graph is full: more than ${MAX_LOCK_ORDER_EDGES} distinct pairs of locks were nested in one run`);
  }
  w[at] = from;
  w[at + 1] = to;
}

/** Whether `to` can be reached from `from` along the recorded edges. */
function reaches(w: Int32Array<ArrayBufferLike>, graph: SharedTable, from: number, to: number): boolean {
  const end = graph.end(w);
  const seen: number[] = [];
  const stack = [from];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === to) return true;
    if (seen.includes(n)) continue;
    seen.push(n);
    for (let at = graph.base; at < end; at += 2) {
      if (w[at] === n) stack.push(w[at + 1]!);
    }
  }
  return false;
}
