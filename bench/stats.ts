/** Summaries shared by the bench modules, which take several rounds of each measurement. */

export function median(xs: readonly number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const mid = a.length >> 1;
  return a.length % 2 === 1 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
}

/** A ratio as a whole percentage ("42%"). */
export const pct = (x: number): string => `${Math.round(x * 100)}%`;
