import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { FenceChange, FenceReport } from '../../engine/fences.ts';
import type { RunSummary } from '../../engine/outcome.ts';
import type { TraceStep } from '../../engine/trace.ts';
import type { Rig } from '../../machine/rig.ts';
import { loadScenarioSource } from '../lib/catalog.ts';
import { scenarioRef, type ScenarioChoice } from '../lib/choice.ts';
import { int } from '../lib/format.ts';
import type { Runner } from '../services/runner.ts';
import { base } from '../styles.ts';

// The search's defaults (engine/fences.ts), restated so the page does not load the engine.
const BUDGET = 10_000;
const SEEDS = '1, 2, 3';

/** A step through Windows' ordering APIs (ReadNoFence, WriteRelease64, ReadPointerAcquire, WriteVolatile …). */
const ORDERING_ROUTINE = /^(Read|Write)\w*(NoFence|Acquire|Release|Raw|Volatile)(8|16|64)?$/;

/** Whether a failure's trace shows ordering-API accesses or a reordering: the fence search has something to change. */
export function hasOrderingAccesses(trace: readonly TraceStep[] | undefined): boolean {
  return (trace ?? []).some((s) => {
    const w = s as TraceStep & { buffered?: boolean; stale?: unknown };
    return ORDERING_ROUTINE.test(s.routine) || (s.frames ?? []).some((f) => ORDERING_ROUTINE.test(f.fn)) || w.buffered === true || w.stale !== undefined || (s.what as string) === 'flush';
  });
}

function changeText(c: FenceChange): string {
  if (c.kind === 'fence') return 'KeMemoryBarrier() right before it';
  const to = c.kind === 'release' ? 'Release' : 'Acquire';
  const r = c.site.routine;
  return `→ ${r !== undefined && /NoFence|Raw/.test(r) ? r.replace(/NoFence|Raw/, to) : c.site.op === 'write' ? 'WriteRelease' : 'ReadAcquire'}`;
}

const KIND_TEXT: Record<FenceChange['kind'], string> = { release: 'release store', acquire: 'acquire load', fence: 'full barrier' };

/**
 * "Suggest fences" on a failure: the smallest set of ordering changes (WriteNoFence → WriteRelease,
 * a read → ReadAcquire, a KeMemoryBarrier before an access) after which the failure is gone over the
 * budget (src/engine/fences.ts, run in a worker; a user's scenario in the sandbox's), each with its
 * source line.
 */
@customElement('rb-fence-suggestions')
export class FenceSuggestions extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .row { display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; }
      ol { margin: 0.5rem 0 0; padding-left: 1.25rem; }
      li { margin: 0.35rem 0; }
      .change { font-family: var(--rb-mono); font-size: 0.8rem; }
      .code { background: var(--rb-code-bg, rgba(127, 127, 127, 0.1)); padding: 0 0.25rem; border-radius: 3px; }
      .kind { color: var(--rb-muted); font-size: 0.8rem; }
      .verified { color: var(--rb-ok); font-size: 0.85rem; }
      .muted { color: var(--rb-muted); font-size: 0.85rem; }
    `,
  ];

  @property({ attribute: false }) runner?: Runner;
  @property({ attribute: false }) rig?: Rig;
  @property({ attribute: false }) scenario?: ScenarioChoice;
  @property({ attribute: false }) summary?: RunSummary;
  @state() private busy = false;
  @state() private schedules = 0;
  @state() private report?: FenceReport;
  @state() private error = '';
  /** Source lines of the scenario, once loaded (library scenarios: /scenarios/<id>.ts). */
  @state() private lines: Map<string, string[]> = new Map();
  private abort?: AbortController;
  private searched?: RunSummary;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    // Another run's failure: the last search's suggestions are not about it.
    if (changed.has('summary') && this.summary !== this.searched) {
      this.abort?.abort();
      this.report = undefined;
      this.error = '';
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort?.abort();
  }

  private async suggest(): Promise<void> {
    const { runner, rig, scenario } = this;
    if (!runner?.fences || !rig || !scenario) return;
    this.abort = new AbortController();
    this.busy = true;
    this.error = '';
    this.report = undefined;
    this.schedules = 0;
    this.searched = this.summary;
    try {
      const report = await runner.fences({ scenario: scenarioRef(scenario), rig }, (n) => { this.schedules = n; }, this.abort.signal);
      await this.loadLines(report);
      this.report = report;
    } catch (e) {
      if ((e as Error).name !== 'AbortError') this.error = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }

  private async loadLines(r: FenceReport): Promise<void> {
    const files = new Set(r.suggestions.flatMap((s) => s.changes.map((c) => c.site.file)));
    const next = new Map(this.lines);
    for (const f of files) {
      // A user's scenario is evaluated as user-scenario.js, line for line its own source.
      if (this.scenario?.kind === 'user' && f.endsWith('user-scenario.js')) next.set(f, this.scenario.source.split('\n'));
      if (next.has(f) || !f.startsWith('/scenarios/')) continue;
      const text = await loadScenarioSource(f).catch(() => undefined);
      if (text !== undefined) next.set(f, text.split('\n'));
    }
    this.lines = next;
  }

  private lineText(file: string, line: number): string | undefined {
    return this.lines.get(file)?.[line - 1]?.trim();
  }

  override render() {
    if (!this.scenario || !this.runner?.fences) return nothing;
    return html`<section class="card" aria-labelledby="fences-h" data-testid="fence-suggestions">
      <h3 id="fences-h">The fence that fixes it</h3>
      <div class="row">
        ${this.busy
          ? html`<button type="button" class="danger" @click=${() => this.abort?.abort()}>Stop</button>
              <span class="muted" role="status">Searching… ${int(this.schedules)} schedules</span>`
          : html`<button type="button" data-testid="suggest-fences" @click=${() => void this.suggest()}>Suggest fences</button>
              <span class="muted">The smallest change to this scenario's ordering-API accesses (release/acquire before a full barrier) after which ${int(BUDGET)} schedules of each of seeds ${SEEDS} find no failure.</span>`}
      </div>
      ${this.error ? html`<div class="banner error" role="alert">The search could not complete: ${this.error}</div>` : nothing}
      ${this.report ? this.renderReport(this.report) : nothing}
    </section>`;
  }

  private renderReport(r: FenceReport) {
    const secs = (r.elapsedMs / 1000).toFixed(1);
    const footer = html`<p class="muted">${int(r.tried)} change sets tried, ${int(r.schedulesRun)} schedules, ${secs} s.</p>`;
    if (r.result === 'not-failing') return html`<p data-testid="fences-result">No failure in ${int(r.schedulesRun)} schedules of seeds ${r.seeds.join(', ')}: nothing to fix.</p>`;
    if (r.result === 'error') return html`<p data-testid="fences-result">The scenario itself is broken (outcome error): no ordering change can be judged.</p>`;
    if (r.result !== 'fixed') {
      const why = r.sites.length === 0
        ? 'the failing run makes no ReadNoFence/WriteNoFence/volatile access: it is not an ordering bug'
        : `no set of at most ${r.maxChanges} changes to its ${r.sites.length} ordering-API accesses removes the failure`;
      return html`<p data-testid="fences-result">${r.result === 'stopped' ? 'Stopped.' : `No suggestion: ${why}.`}</p>${footer}`;
    }
    return html`<ol data-testid="fences-result">
        ${r.suggestions.map((s) => html`<li data-testid="fence-suggestion">
          ${s.changes.map((c) => html`<div class="change">line ${c.site.line}: <span class="code">${this.lineText(c.site.file, c.site.line) ?? c.site.routine ?? c.site.op}</span> ${changeText(c)}
            <span class="kind">(${KIND_TEXT[c.kind]})</span></div>`)}
          <div class="verified">verified: no failure in ${int(s.verifiedSchedules)} schedules</div>
        </li>`)}
      </ol>${footer}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-fence-suggestions': FenceSuggestions;
  }
}
