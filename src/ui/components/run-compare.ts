import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StoredRun } from '../../history/types.ts';
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
    `,
  ];

  @property({ attribute: false }) runs: [StoredRun, StoredRun] | [] = [];

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
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-run-compare': RunCompare;
  }
}
