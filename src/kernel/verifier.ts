/**
 * Driver Verifier's deadlock detection: a lock-acquisition-order graph kept
 * over the whole run. Taking B while holding A adds the edge A→B; if B→…→A is
 * already known, the two orders can deadlock and Verifier stops the machine
 * with 0xC4/0x1001 — at the acquire, before any deadlock actually happens.
 */
import { verifierViolation, type BugCheck } from '../machine/bugcheck.ts';

export class Verifier {
  private readonly edges = new Map<number, number[]>();

  reset(): void {
    if (this.edges.size !== 0) this.edges.clear();
  }

  /**
   * Records that `lock` is being acquired while `held` are held; returns the
   * violation to raise, or null.
   */
  onAcquire(held: readonly number[], lock: number, thread: number, nameOf: (a: number) => string): BugCheck | null {
    for (let i = 0; i < held.length; i++) {
      const h = held[i]!;
      if (h === lock) continue;
      if (this.reaches(lock, h)) {
        return verifierViolation(
          0x1001, lock * 4, h * 4, thread * 4,
          `lock hierarchy violation: ${nameOf(lock)} is acquired while holding ${nameOf(h)}, but elsewhere ${nameOf(h)} is acquired while holding ${nameOf(lock)}`,
        );
      }
      let out = this.edges.get(h);
      if (!out) this.edges.set(h, (out = []));
      if (!out.includes(lock)) out.push(lock);
    }
    return null;
  }

  private reaches(from: number, to: number): boolean {
    const seen = new Set<number>();
    const stack = [from];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      const out = this.edges.get(n);
      if (out) for (const x of out) stack.push(x);
    }
    return false;
  }
}
