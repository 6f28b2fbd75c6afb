import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { TraceStep } from '../../engine/trace.ts';
import { OUTCOMES, type OutcomeKind, type RunCursor, type StoredRun } from '../../history/types.ts';
import { logicalCpuCount } from '../../machine/rig.ts';
import { catalogContext, historyContext } from '../context.ts';
import type { Catalog } from '../lib/catalog.ts';
import { formatDuration, formatTime, outcomeLabel, int } from '../lib/format.ts';
import { summaryOf } from '../lib/stored.ts';
import { checkImportSize } from '../../history/transfer.ts';
import type { HistoryService } from '../services/history-service.ts';
import { base } from '../styles.ts';
import './run-compare.ts';
import './run-result.ts';

const PAGE = 20;

/**
 * Every run, newest first: filters (scenario, rig, outcome), paging, open a
 * run to see its failure and timeline again, replay it, compare two, delete,
 * export and import as JSON. Storage errors are shown, never swallowed.
 */
@customElement('rb-history-view')
export class HistoryView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: grid; gap: 1rem; min-width: 0; }
      :host > * { min-width: 0; }
      .bar { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: end; justify-content: space-between; margin-bottom: 0.75rem; }
      .filters { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: end; }
      .tools { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
      .table-wrap { overflow-x: auto; }
      td.num { font-variant-numeric: tabular-nums; text-align: right; }
      td.actions { white-space: nowrap; }
      td.actions button { padding: 0.2rem 0.55rem; font-size: 0.8rem; }
      tr.open td { background: var(--rb-accent-soft); }
      .pager { display: flex; gap: 0.5rem; align-items: center; justify-content: flex-end; margin-top: 0.75rem; font-size: 0.85rem; }
      input[type='file'] { display: none; }
      label.button { font-weight: 400; }
      .empty { padding: 2rem; text-align: center; color: var(--rb-muted); }
    `,
  ];

  @consume({ context: historyContext, subscribe: true }) @state() history?: HistoryService;
  @consume({ context: catalogContext, subscribe: true }) @state() catalog?: Catalog;
  @property({ attribute: false }) scenarioIds: string[] = [];
  @property({ attribute: false }) rigIds: string[] = [];
  /** Bumped by the app when a run is saved, so the list refreshes. */
  @property({ type: Number }) revision = 0;

  @state() private runs: StoredRun[] = [];
  @state() private cursors: (RunCursor | undefined)[] = [undefined];
  @state() private next?: RunCursor;
  @state() private filter: { scenario?: string; rig?: string; outcome?: OutcomeKind } = {};
  @state() private loading = false;
  @state() private error = '';
  @state() private notice = '';
  @state() private openRun?: StoredRun;
  @state() private openTrace?: TraceStep[];
  @state() private compare = new Set<number>();
  @state() private comparing?: [StoredRun, StoredRun];
  private loadedRevision = -1;
  private loadedFor?: HistoryService;

  override updated(): void {
    if (this.history && (this.revision !== this.loadedRevision || this.history !== this.loadedFor)) {
      this.loadedRevision = this.revision;
      this.loadedFor = this.history;
      void this.load(this.cursors[this.cursors.length - 1]);
    }
  }

  private showError(e: unknown): void {
    const err = e as Error;
    this.error = err?.name === 'StorageFullError' ? `Storage is full: ${err.message}` : err?.message ?? String(e);
  }

  private async load(after?: RunCursor): Promise<void> {
    if (!this.history) return;
    this.loading = true;
    try {
      const page = await this.history.listRuns({ limit: PAGE, ...this.filter, ...(after ? { after } : {}) });
      this.runs = page.runs;
      this.next = page.next;
      this.error = '';
    } catch (e) {
      this.showError(e);
    } finally {
      this.loading = false;
    }
  }

  private setFilter(key: 'scenario' | 'rig' | 'outcome', value: string): void {
    const f = { ...this.filter };
    if (value) (f as Record<string, string>)[key] = value;
    else delete f[key];
    this.filter = f;
    this.cursors = [undefined];
    void this.load();
  }

  private async nextPage(): Promise<void> {
    if (!this.next) return;
    this.cursors = [...this.cursors, this.next];
    await this.load(this.next);
  }

  private async prevPage(): Promise<void> {
    if (this.cursors.length < 2) return;
    this.cursors = this.cursors.slice(0, -1);
    await this.load(this.cursors[this.cursors.length - 1]);
  }

  private async open(r: StoredRun): Promise<void> {
    this.openRun = r;
    this.openTrace = undefined;
    try {
      this.openTrace = await this.history?.getTrace(r.id);
    } catch (e) {
      this.showError(e);
    }
    await this.updateComplete;
    this.renderRoot.querySelector('#open-run')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  private async deleteRunRow(r: StoredRun): Promise<void> {
    if (!confirm(`Delete run #${r.id} (${r.scenario.id} on ${r.rig.id})? This cannot be undone.`)) return;
    try {
      await this.history?.deleteRun(r.id);
      if (this.openRun?.id === r.id) this.openRun = undefined;
      this.compare.delete(r.id);
      this.notice = `Run #${r.id} deleted.`;
      await this.load(this.cursors[this.cursors.length - 1]);
    } catch (e) {
      this.showError(e);
    }
  }

  private toggleCompare(r: StoredRun, on: boolean): void {
    const s = new Set(this.compare);
    if (on) s.add(r.id);
    else s.delete(r.id);
    while (s.size > 2) s.delete(s.values().next().value!);
    this.compare = s;
  }

  private async doCompare(): Promise<void> {
    const ids = [...this.compare];
    if (ids.length !== 2 || !this.history) return;
    const [a, b] = await Promise.all(ids.map((id) => this.history!.getRun(id)));
    if (a && b) this.comparing = [a, b];
    await this.updateComplete;
    this.renderRoot.querySelector('rb-run-compare')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  private async exportAll(): Promise<void> {
    try {
      const json = await this.history!.exportJson();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
      a.download = `racebox-history-${new Date().toISOString().slice(0, 10)}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      this.notice = 'History exported.';
    } catch (e) {
      this.showError(e);
    }
  }

  private async importFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file || !this.history) return;
    this.notice = '';
    this.error = '';
    try {
      // Refused by its size before the browser reads it whole.
      checkImportSize(file.size);
      this.notice = `Importing ${file.name}…`;
      const r = await this.history.importFile(file, file.name, (phase, runs) => {
        this.notice = phase === 'checking' ? `Importing ${file.name}: checking every record…` : `Importing ${file.name}: storing ${runs?.toLocaleString('en-US') ?? 'the'} runs…`;
      });
      this.notice = `${file.name}: ${r.message}`;
      this.cursors = [undefined];
      await this.load();
      this.dispatchEvent(new CustomEvent('history-imported', { bubbles: true, composed: true }));
    } catch (err) {
      const x = err as Error;
      this.error = x?.name === 'StorageFullError'
        ? `Storage is full: ${x.message}. Nothing was imported.`
        : `${file.name} was refused: ${x.message.replace(/^import: /, '')}. Nothing stored was changed.`;
    }
  }

  private fire(name: string, run: StoredRun): void {
    this.dispatchEvent(new CustomEvent(name, { detail: run, bubbles: true, composed: true }));
  }

  override render() {
    const f = this.filter;
    return html`
      <section class="card" aria-labelledby="hist-h">
        <div class="bar">
          <h2 id="hist-h" style="margin:0">History</h2>
          <div class="tools">
            <button type="button" ?disabled=${this.compare.size !== 2} @click=${this.doCompare}>Compare selected (${this.compare.size}/2)</button>
            <button type="button" ?disabled=${!this.history} @click=${this.exportAll}>Export JSON</button>
            <label class="button" for="import-file" tabindex="0" role="button" @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); (this.renderRoot.querySelector('#import-file') as HTMLInputElement).click(); } }}>Import JSON…</label>
            <input id="import-file" type="file" accept="application/json,.json" aria-label="Import history file" @change=${this.importFile} />
          </div>
        </div>
        <div class="filters" role="search" aria-label="Filter runs">
          <div class="field"><label for="f-scenario">Scenario</label>
            <select id="f-scenario" @change=${(e: Event) => this.setFilter('scenario', (e.target as HTMLSelectElement).value)}>
              <option value="">All scenarios</option>
              ${this.scenarioIds.map((id) => html`<option value=${id} ?selected=${f.scenario === id}>${id}</option>`)}
            </select></div>
          <div class="field"><label for="f-rig">Rig</label>
            <select id="f-rig" @change=${(e: Event) => this.setFilter('rig', (e.target as HTMLSelectElement).value)}>
              <option value="">All rigs</option>
              ${this.rigIds.map((id) => html`<option value=${id} ?selected=${f.rig === id}>${id}</option>`)}
            </select></div>
          <div class="field"><label for="f-outcome">Outcome</label>
            <select id="f-outcome" @change=${(e: Event) => this.setFilter('outcome', (e.target as HTMLSelectElement).value)}>
              <option value="">All outcomes</option>
              ${OUTCOMES.map((o) => html`<option value=${o} ?selected=${f.outcome === o}>${o}</option>`)}
            </select></div>
        </div>
        ${this.error ? html`<div class="banner error" role="alert" style="margin-top:0.75rem">${this.error}</div>` : nothing}
        ${this.notice ? html`<div class="banner" role="status" style="margin-top:0.75rem">${this.notice}</div>` : nothing}
        <div class="table-wrap" style="margin-top:0.75rem">
          ${this.runs.length === 0
            ? html`<p class="empty">${this.loading ? 'Loading…' : this.history ? 'No runs yet. Every run you start is kept here.' : 'Opening the history…'}</p>`
            : html`<table aria-label="Runs">
                <thead><tr>
                  <th scope="col"><span class="visually-hidden">Compare</span></th>
                  <th scope="col">When</th><th scope="col">Scenario</th><th scope="col">Rig</th><th scope="col">Strategy</th>
                  <th scope="col">Outcome</th><th scope="col" style="text-align:right">Schedules</th><th scope="col" style="text-align:right">Time</th><th scope="col">Actions</th>
                </tr></thead>
                <tbody>
                  ${this.runs.map(
                    (r) => html`<tr class=${this.openRun?.id === r.id ? 'open' : ''} data-run-id=${r.id}>
                      <td><input type="checkbox" aria-label=${`Select run #${r.id} to compare`} .checked=${this.compare.has(r.id)} @change=${(e: Event) => this.toggleCompare(r, (e.target as HTMLInputElement).checked)} /></td>
                      <td>${formatTime(r.createdAt)}<div class="muted" style="font-size:0.75rem">#${r.id}</div></td>
                      <td><code>${r.scenario.id}</code></td>
                      <td><code>${r.rig.id}</code></td>
                      <td>${r.engine === 'free' ? 'free-run' : r.strategy}${r.strategy !== 'replay' && r.engine !== 'free' ? html`<span class="muted"> · seed ${r.seed}</span>` : nothing}</td>
                      <td><span class=${`pill ${r.outcome}`}>${outcomeLabel(r)}</span>${r.outcome === 'pass' && (r.cancelled || (!r.exhausted && r.schedulesRun < r.budget)) ? html`<div class="muted" style="font-size:0.75rem">${r.cancelled ? 'cancelled' : 'stopped'} after ${int(r.schedulesRun)} of ${int(r.budget)}</div>` : nothing}</td>
                      <td class="num">${int(r.schedulesRun)}</td>
                      <td class="num">${formatDuration(r.elapsedMs)}</td>
                      <td class="actions">
                        <button type="button" aria-label=${`Open run #${r.id}`} @click=${() => this.open(r)}>Open</button>
                        <button type="button" aria-label=${`Replay run #${r.id}`} ?disabled=${!r.failure?.schedule.startsWith('rb')} @click=${() => this.fire('replay-run', r)}>Replay</button>
                        <button type="button" class="danger" aria-label=${`Delete run #${r.id}`} @click=${() => this.deleteRunRow(r)}>Delete</button>
                      </td>
                    </tr>`,
                  )}
                </tbody>
              </table>`}
        </div>
        <nav class="pager" aria-label="Pages">
          <span class="muted">Page ${this.cursors.length}</span>
          <button type="button" ?disabled=${this.cursors.length < 2} @click=${this.prevPage}>Newer runs</button>
          <button type="button" ?disabled=${!this.next} @click=${this.nextPage}>Older runs</button>
        </nav>
      </section>
      ${this.comparing ? html`<rb-run-compare .runs=${this.comparing} @close=${() => { this.comparing = undefined; }}></rb-run-compare>` : nothing}
      ${this.openRun
        ? html`<div id="open-run">
            <rb-run-result heading=${`Run #${this.openRun.id}`} .summary=${summaryOf(this.openRun)} .trace=${this.openTrace}
              .cpus=${logicalCpuCount(this.openRun.rig)} .depth=${this.openRun.depth ?? 3}
              .userScenario=${!!this.catalog && !this.catalog.byId.has(this.openRun.scenario.id)}
              @replay=${() => this.openRun && this.fire('replay-run', this.openRun)}></rb-run-result>
          </div>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-history-view': HistoryView;
  }
}
