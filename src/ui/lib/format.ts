import type { RunSummary } from '../../engine/outcome.ts';

export const hex = (n: number, width = 0): string => '0x' + (n >>> 0).toString(16).toUpperCase().padStart(width, '0');

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '—';
  if (perSecond >= 10_000) return `${int(perSecond / 1000)}k`;
  return int(perSecond);
}

export function outcomeLabel(r: Pick<RunSummary, 'outcome' | 'failure'>): string {
  const f = r.failure;
  if (r.outcome === 'pass') return 'pass';
  if (f?.bugcheck) return `${f.bugcheck.name} (${hex(f.bugcheck.code)})`;
  if (f?.invariant) return `invariant “${f.invariant}”`;
  return r.outcome;
}

export function formatTime(t: number): string {
  const d = new Date(t);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  return `${p2(d.getDate())} ${month} ${d.getFullYear()}, ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/**
 * 12,345 without Intl: the first toLocaleString() call loads locale data and
 * blocks the page for tens of milliseconds, right when a run starts.
 */
export function int(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const s = Math.round(Math.abs(n)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}
