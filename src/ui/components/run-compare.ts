import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { compareSchedules, describeChoice, type ScheduleComparison } from '../../engine/schedule-diff.ts';
import type { TraceStep } from '../../engine/trace.ts';
import type { StoredRun } from '../../history/types.ts';
import { historyContext } from '../context.ts';
import type { HistoryService } from '../services/history-service.ts';
import { formatDuration, formatTime, outcomeLabel, int } from '../lib/format.ts';
import { base } from '../styles.ts';

type Row = [label: string, get: (r: StoredRun) => string];

const ROWS: Row[] = [
  ['Run', (r) => `#${r.id} · ${formatTime(r.createdAt)}`],
  ['Scenario', (r) => `${r.scenario.id} v${r.scenario.version}`],
  ['Rig', (r) => `${r.rig.id} (${r.rig.cores}×${r.rig.threadsPerCore}, ${r.rig.hal.toUpperCase()}, ${r.rig.build})`],
  ['Engine', (r) => r.engine],
  ['Strategy', (r) => `${r.strategy}${r.depth !== undefined ? `, d=${r.depth}` : ''}${r.preemptionBound !== undefined ? `, bound ${r.preemptionBound}` : ''}`],
  ['Seed', (r) => String(r.seed)],
  ['Budget', (r) => int(r.budget)],
  ['Outcome', (r) => outcomeLabel(r)],
  ['Failing CPU / routine', (r) => (r.failure ? `CPU ${r.failure.cpu} · ${r.failure.routine}` : '—')],
  ['Failure message', (r) => r.failure?.message ?? '—'],
  ['Failing step', (r) => (r.failure ? String(r.failure.step) : '—')],
  ['Schedules run', (r) => int(r.schedulesRun)],
  ['Steps', (r) => int(r.steps)],
  ['Time', (r) => formatDuration(r.elapsedMs)],
  ['Schedule', (r) => r.failure?.schedule ?? '—'],
];

/** Two runs side by side; the rows that differ are marked. */
@customElement('rb-run-compare')
export class RunCompare extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      td { font-size: 0.85rem; word-break: break-word; }
      td.sched { font-family: var(--rb-mono); font-size: 0.72rem; }
      tr.diff td { background: var(--rb-caution-bg); }
      tr.diff th::after { content: ' ≠'; color: var(--rb-caution); }
      .verdict { margin-top: 0.75rem; font-weight: 500; }
      .inter { margin-top: 1rem; }
      .inter td { font-family: var(--rb-mono); font-size: 0.75rem; }
      .inter tr.at td, .inter tr.at th { outline: 2px solid var(--rb-caution); }
      .inter td.differs { background: var(--rb-caution-bg); }
      .percpu { font-size: 0.85rem; }
      .percpu li { overflow-wrap: anywhere; }
    `,
  ];

  @consume({ context: historyContext, subscribe: true }) @state() history?: HistoryService;
  @property({ attribute: false }) runs: [StoredRun, StoredRun] | [] = [];
  /** The two runs' traces (from the history), when both were recorded. */
  @state() private traces: [TraceStep[] | undefined, TraceStep[] | undefined] = [undefined, undefined];

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('runs')) {
      this.traces = [undefined, undefined];
      void this.loadTraces();
    }
  }

  private async loadTraces(): Promise<void> {
    const runs = this.runs;
    if (runs.length !== 2 || !this.history) return;
    const t = await Promise.all(runs.map((r) => this.history!.getTrace(r.id).catch(() => undefined)));
    if (this.runs === runs) this.traces = [t[0], t[1]];
  }

  override render() {
    if (this.runs.length !== 2) return html``;
    const [a, b] = this.runs;
    const same = a.failure?.schedule !== undefined && a.failure.schedule === b.failure?.schedule;
    const sameOutcome = outcomeLabel(a) === outcomeLabel(b);
    return html`<section class="card" aria-labelledby="cmp-h" data-testid="compare">
      <div class="row" style="justify-content:space-between">
        <h2 id="cmp-h">Compare run #${a.id} and run #${b.id}</h2>
        <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('close'))}>Close comparison</button>
      </div>
      <table>
        <thead><tr><th scope="col"></th><th scope="col">Run #${a.id}</th><th scope="col">Run #${b.id}</th></tr></thead>
        <tbody>
          ${ROWS.map(([label, get]) => {
            const x = get(a);
            const y = get(b);
            const diff = label !== 'Run' && x !== y;
            return html`<tr class=${diff ? 'diff' : ''}><th scope="row">${label}</th><td class=${label === 'Schedule' ? 'sched' : ''}>${x}</td><td class=${label === 'Schedule' ? 'sched' : ''}>${y}</td></tr>`;
          })}
        </tbody>
      </table>
      <p class="verdict">${same ? 'Both runs followed the identical schedule: the same failure, step for step.' : sameOutcome ? 'Same outcome, reached by different schedules.' : 'The outcomes differ.'}</p>
      ${a.failure?.schedule && b.failure?.schedule ? this.renderInterleavings(a, b, compareSchedules(a.failure.schedule, b.failure.schedule)) : nothing}
    </section>`;
  }

  /** Where the two interleavings part, side by side, and what each CPU did differently from there. */
  private renderInterleavings(a: StoredRun, b: StoredRun, c: ScheduleComparison) {
    if (c.kind === 'incomparable') return html`<p class="inter muted">The schedules cannot be compared as interleavings: ${c.reason}.</p>`;
    if (c.kind === 'identical') return html`<p class="inter" data-testid="divergence">The same interleaving: both schedules make the same choices for all ${c.steps} steps.</p>`;
    const [ta, tb] = this.traces;
    const from = Math.max(0, c.step - 3);
    const to = c.step + 10;
    const rows: number[] = [];
    for (let i = from; i < to && (ta?.[i] || tb?.[i]); i++) rows.push(i);
    const cpus = [...new Set([...(ta ?? []), ...(tb ?? [])].map((t) => t.cpu))].sort((x, y) => x - y);
    const after = (t: TraceStep[] | undefined, cpu: number): string =>
      (t ?? []).filter((s) => s.step >= c.step && s.cpu === cpu).slice(0, 4).map(opText).join('; ') || 'nothing more';
    return html`<div class="inter" data-testid="divergence" data-step=${String(c.step)}>
      <h3 style="font-size:1rem;margin:0 0 0.4rem">As interleavings</h3>
      <p>Both runs do the same up to step ${c.step}. There run #${a.id} chose <b>${describeChoice(c.a)}</b>; run #${b.id} chose <b>${describeChoice(c.b)}</b>.</p>
      ${ta && tb
        ? html`<table aria-label="The steps around the divergence">
              <thead><tr><th scope="col">Step</th><th scope="col">Run #${a.id}</th><th scope="col">Run #${b.id}</th></tr></thead>
              <tbody>${rows.map((i) => {
                const x = ta[i] ? stepText(ta[i]) : '—';
                const y = tb[i] ? stepText(tb[i]) : '—';
                return html`<tr class=${i === c.step ? 'at' : ''}><th scope="row">${i}</th><td class=${x !== y ? 'differs' : ''}>${x}</td><td class=${x !== y ? 'differs' : ''}>${y}</td></tr>`;
              })}</tbody>
            </table>
            <ul class="percpu" aria-label="What each CPU did from the divergence on">
              ${cpus.map((cpu) => html`<li data-cpu=${String(cpu)}>CPU ${cpu}: run #${a.id} ${after(ta, cpu)} — run #${b.id} ${after(tb, cpu)}</li>`)}
            </ul>`
        : html`<p class="muted">Replay both runs (their timelines are then kept) to see the steps side by side.</p>`}
    </div>`;
  }
}

function opText(t: TraceStep): string {
  if (t.what === 'quantum') return 'quantum end';
  if (t.what === 'event') return `${t.context} arrives`;
  if (t.what === 'flush') return `store of ${t.address ?? 'memory'} becomes visible`;
  return `${t.op}${t.address ? ` ${t.address}` : ''}${t.routine !== t.context ? ` in ${t.routine}` : ''}`;
}

function stepText(t: TraceStep): string {
  return `CPU ${t.cpu} ${t.what === 'step' ? `${t.context}: ` : ''}${opText(t)}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-run-compare': RunCompare;
  }
}
