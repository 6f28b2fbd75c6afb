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
  if (perSecond >= 10_000) return `${Math.round(perSecond / 1000).toLocaleString('en')}k`;
  return Math.round(perSecond).toLocaleString('en');
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
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
