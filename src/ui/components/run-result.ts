import type { Rig } from '../../machine/rig.ts';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { RunSummary } from '../../engine/outcome.ts';
import type { FreeRunSummary } from '../../engine/free/run.ts';
import type { TraceStep } from '../../engine/trace.ts';
import { decodeSchedule } from '../../engine/schedule.ts';
import { toChromeTrace } from '../lib/chrome-trace.ts';
import { formatDuration, outcomeLabel, int } from '../lib/format.ts';
import { describeMissBound, pctMissBound } from '../lib/pct-bound.ts';
import { buildTimeline, idleCpusAtEnd } from '../lib/trace-model.ts';
import { replayLink } from '../lib/url.ts';
import { base } from '../styles.ts';
import './bugcheck-screen.ts';
import './run-timeline.ts';
import './source-pane.ts';
import './wait-report.ts';

/** Everything about one finished run: the outcome, the blue screen or the wait report, the timeline, and how to share it. */
@customElement('rb-run-result')
export class RunResult extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: grid; gap: 1rem; min-width: 0; }
      :host > * { min-width: 0; }
      /* The heading takes focus after a run so keyboard users land on the outcome; it is not a control, so no ring. */
      #result-h:focus { outline: none; }
      .head { display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; align-items: center; justify-content: space-between; }
      .facts { display: flex; flex-wrap: wrap; gap: 0.35rem 1.25rem; font-size: 0.875rem; }
      .facts b { font-weight: 600; }
      .schedule { font-family: var(--rb-mono); font-size: 0.75rem; word-break: break-all; color: var(--rb-muted); margin-top: 0.5rem; }
      .bound { border-left: 4px solid var(--rb-ok); }
      .bound.weak { border-left-color: var(--rb-caution); }
      .toast { font-size: 0.85rem; color: var(--rb-ok); }
      rb-source-pane { margin-top: 1.25rem; }
    `,
  ];

  @property({ attribute: false }) summary?: RunSummary;
  @property({ attribute: false }) trace?: TraceStep[];
  @property({ type: Number }) cpus = 1;
  /** Actors of the scenario (n in the PCT bound). */
  @property({ type: Number }) actors = 2;
  @property({ type: Number }) depth = 3;
  /** The run came from a user's scenario: links cannot carry its source. */
  @property({ type: Boolean }) userScenario = false;
  /** The run's rig when it is not a preset: a link must carry its fields, or whoever opens it cannot replay. */
  @property({ attribute: false }) linkRig?: Rig;
  @property({ type: Boolean }) tracing = false;
  @property() heading = 'Result';
  /** The source of a user's scenario, for the source pane (library scenarios load their own). */
  @property({ attribute: false }) userSource?: string;
  @state() private note = '';
  /** The step selected in the timeline (-1: the last one), which the source pane follows. */
  @state() private step = -1;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('trace')) this.step = -1;
  }

  /** Selects a step in the timeline and brings it into view (the blue screen's "go to" links). */
  private goToStep(i: number): void {
    const tl = this.renderRoot.querySelector('rb-run-timeline');
    if (!tl) return;
    tl.select(i);
    this.step = tl.selected;
    tl.scrollIntoView({ block: 'start' });
    tl.focusCanvas();
  }

  private idleOf?: RunSummary;
  private idle: ReadonlySet<number> = new Set();
  /** The summary's idle CPUs, the same Set while the summary is the same (a new one would redraw the timeline). */
  private idleAtEnd(s: RunSummary): ReadonlySet<number> {
    if (this.idleOf !== s) {
      this.idleOf = s;
      this.idle = idleCpusAtEnd(s.failure?.cpus);
    }
    return this.idle;
  }

  /** After Start the result takes keyboard focus, so the outcome is where the user is. */
  focusHeading(): void {
    this.renderRoot.querySelector<HTMLElement>('#result-h')?.focus();
  }

  private async copyLink(): Promise<void> {
    const s = this.summary;
    const sched = s?.failure?.schedule;
    if (!s || !sched) return;
    const link = replayLink(location.href, this.linkRig ?? s.rig, s.scenario, sched);
    try {
      await navigator.clipboard.writeText(link);
      this.note = 'Link copied: it replays this exact failure.';
    } catch {
      this.note = `Copy this link: ${link}`;
    }
    this.dispatchEvent(new CustomEvent('link-copied', { detail: link, bubbles: true, composed: true }));
  }

  private exportTrace(): void {
    const s = this.summary;
    if (!s || !this.trace) return;
    const model = buildTimeline(this.trace, this.cpus, s.outcome !== 'pass', this.idleAtEnd(s));
    const json = JSON.stringify(toChromeTrace(model, s));
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    a.download = `racebox-${s.scenario.replace(/\//g, '_')}-${s.rig}.trace.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    this.note = 'Trace exported: open it in ui.perfetto.dev or chrome://tracing.';
  }

  override render() {
    const s = this.summary;
    if (!s) return nothing;
    const f = s.failure;
    const replayable = !!f?.schedule?.startsWith('rb');
    // A user's scenario cannot travel in a link (its code would run in someone else's browser unasked).
    const link = replayable && !this.userScenario ? replayLink(location.href, this.linkRig ?? s.rig, s.scenario, f!.schedule) : undefined;
    const free = (s as Partial<FreeRunSummary>).engine === 'free' ? (s as FreeRunSummary) : undefined;
    // A cancelled run that saw no failure is not a pass: it stopped before its budget.
    const stopped = s.outcome === 'pass' && (s as { cancelled?: boolean }).cancelled === true;
    return html`
      <section class="card" aria-labelledby="result-h">
        <div class="head">
          <div>
            <h2 id="result-h" tabindex="-1">${this.heading}: <span class=${`pill ${stopped ? 'stopped' : s.outcome}`} data-testid="outcome">${stopped ? `no failure in the ${int(s.schedulesRun)} schedules run` : outcomeLabel(s)}</span></h2>
            <div class="facts">
              <span><b>${s.scenario}</b> on <b>${s.rig}</b></span>
              ${free
                ? html`<span>free-run, one worker per CPU (${free.cpus.length})</span>
                    <span>${int(free.iterations)} iteration${free.iterations === 1 ? '' : 's'}, ${int(s.steps)} operations</span>`
                : html`<span>strategy ${s.strategy}${s.strategy !== 'replay' ? `, seed ${s.seed}` : ''}</span>
                    <span>${int(s.schedulesRun)} schedule${s.schedulesRun === 1 ? '' : 's'}, ${int(s.steps)} steps</span>`}
              <span>${formatDuration(s.elapsedMs)}</span>
              ${s.exhausted ? html`<span>every schedule within the bound explored</span>` : nothing}
              ${s.failingSchedule !== undefined ? html`<span>failed on schedule ${int(s.failingSchedule + 1)} of ${int(s.schedulesRun)}${s.failure?.foundBy !== undefined ? html` (found by ${s.failure.foundBy})` : nothing}</span>` : nothing}
            </div>
          </div>
          ${replayable
            ? html`<div class="row">
                <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('replay', { bubbles: true, composed: true }))}>Replay</button>
                ${link ? html`<button type="button" @click=${this.copyLink}>Copy link</button>` : nothing}
                <button type="button" ?disabled=${!this.trace} @click=${this.exportTrace}>Export trace (Perfetto)</button>
              </div>`
            : nothing}
        </div>
        ${replayable ? html`<div class="schedule" title="The schedule string replays this run exactly">schedule ${f!.schedule}</div>` : nothing}
        ${replayable && f!.preemptions !== undefined ? renderShrink(f!) : nothing}
        ${link ? html`<a class="visually-hidden" href=${link}>Link to this failure</a>` : nothing}
        ${this.renderFacts(s)}
        ${this.note ? html`<p class="toast" role="status">${this.note}</p>` : nothing}
        ${this.userScenario && f ? html`<p class="muted" style="font-size:0.82rem">This run used your own scenario: a link cannot carry its source, so share the scenario file and the schedule string.</p>` : nothing}
      </section>
      ${free ? this.renderFree(free) : s.outcome === 'pass' ? this.renderBound(s) : nothing}
      ${f?.bugcheck ? html`<rb-bugcheck-screen .summary=${s} .linkable=${!!link} .trace=${this.trace} @go-to-step=${(e: CustomEvent<number>) => this.goToStep(e.detail)} @copy-link=${this.copyLink} @show-timeline=${() => this.renderRoot.querySelector('rb-run-timeline')?.scrollIntoView({ behavior: 'smooth' })}></rb-bugcheck-screen>` : nothing}
      ${f && !f.bugcheck ? html`<rb-wait-report .summary=${s} .trace=${this.trace} @go-to-step=${(e: CustomEvent<number>) => this.goToStep(e.detail)}></rb-wait-report>` : nothing}
      ${f && replayable
        ? html`<section class="card" aria-labelledby="tl-h">
            <h2 id="tl-h">Timeline</h2>
            ${this.trace
              ? html`<rb-run-timeline .steps=${this.trace} .cpus=${this.cpus} .failed=${true} .idleAtEnd=${this.idleAtEnd(s)} @step-select=${(e: CustomEvent<number>) => { this.step = e.detail; }}></rb-run-timeline>
                  <rb-source-pane .steps=${this.trace} .cpus=${this.cpus} .selected=${this.step} .userSource=${this.userSource}></rb-source-pane>`
              : html`<p class="muted" role="status">${this.tracing ? 'Replaying the failing schedule to record its timeline…' : 'No timeline recorded for this run.'}</p>`}
          </section>`
        : nothing}
    `;
  }

  /**
   * The run's result in a form tests read without parsing prose (the Playwright regression
   * matrix, e2e/regress): stable attributes, never shown.
   */
  private renderFacts(s: RunSummary) {
    const f = s.failure;
    const b = f?.bugcheck;
    return html`<div hidden data-testid="run-facts" data-scenario=${s.scenario} data-rig=${s.rig} data-strategy=${s.strategy} data-seed=${String(s.seed)}
      data-outcome=${s.outcome} data-schedules-run=${String(s.schedulesRun)} data-elapsed-ms=${String(Math.round(s.elapsedMs))}
      data-failure-kind=${f?.kind ?? ''} data-invariant=${f?.invariant ?? ''} data-liveness=${f?.liveness?.name ?? ''} data-schedule=${f?.schedule ?? ''}
      data-bugcheck=${b?.name ?? ''} data-bugcheck-code=${b ? String(b.code) : ''} data-bugcheck-param1=${b?.params[0] !== undefined ? String(b.params[0]) : ''}></div>`;
  }

  private renderFree(s: FreeRunSummary) {
    return html`<section class="card" aria-labelledby="free-h" data-testid="free-run">
      <h3 id="free-h">Free-run on ${s.cpus.length} worker${s.cpus.length === 1 ? '' : 's'} (real parallelism, not reproducible)</h3>
      <div class="facts">
        <span><b>${int(s.iterations)}</b> iterations</span>
        <span><b>${int(s.totals.operationsPerSecond)}</b> operations/s</span>
        <span><b>${int(s.totals.acquisitionsPerSecond)}</b> lock acquisitions/s</span>
        <span>stopped by ${s.stoppedBy}</span>
      </div>
      ${(s.warnings ?? []).map((w) => html`<div class="banner warn" role="note" style="margin-top:0.5rem">${w}</div>`)}
      ${s.failure ? html`<p style="margin-top:0.5rem">A free-run failure cannot be replayed. Explore the same scenario with the controlled engine to get a schedule that replays step by step.</p>` : nothing}
      <details style="margin-top:0.5rem"><summary>What free-run does not check</summary><ul>${s.limits.map((l) => html`<li style="font-size:0.85rem">${l}</li>`)}</ul></details>
    </section>`;
  }

  private renderBound(s: RunSummary) {
    if (s.strategy !== 'pct' || s.schedulesRun === 0) {
      return html`<section class="card bound" aria-label="What a pass means"><p>No failure in ${int(s.schedulesRun)} schedules${s.exhausted ? ' — every schedule within the preemption bound was explored, so no bug needs fewer preemptions than that bound' : ''}.</p></section>`;
    }
    const k = Math.max(1, Math.round(s.steps / s.schedulesRun));
    const rows = [1, 2, 3, 4].filter((d) => d <= Math.max(this.depth, 3));
    const main = pctMissBound(s.schedulesRun, this.actors, k, this.depth);
    return html`<section class=${`card bound ${main.missed < 0.05 ? '' : 'weak'}`} aria-labelledby="bound-h" data-testid="pct-bound">
      <h3 id="bound-h">What ${int(s.schedulesRun)} clean PCT schedules tell you</h3>
      <p>${describeMissBound(main, s.schedulesRun)}</p>
      <table>
        <thead><tr><th scope="col">Bug depth d</th><th scope="col">Found per schedule ≥</th><th scope="col">Chance it was missed ≤</th><th scope="col">Schedules for 95 %</th></tr></thead>
        <tbody>${rows.map((d) => {
          const b = pctMissBound(s.schedulesRun, this.actors, k, d);
          return html`<tr><td>${d}</td><td>1 in ${int(1 / b.perRun)}</td><td>${(b.missed * 100).toFixed(b.missed < 0.01 ? 3 : 1)} %</td><td>${int(b.for95)}</td></tr>`;
        })}</tbody>
      </table>
      <p class="muted" style="font-size:0.8rem;margin-top:0.5rem">Bound (1 − 1/(n·k<sup>d−1</sup>))<sup>N</sup> with n = ${this.actors} actors, k ≈ ${k} steps per run, N = ${int(s.schedulesRun)} schedules (Burckhardt et al., ASPLOS 2010). The depth of a bug is how many ordering constraints it needs: a plain two-thread race has depth 1 or 2.</p>
    </section>`;
  }
}

/** How small the shown schedule is, and how big the one the search found was (src/engine/shrink.ts). */
function renderShrink(f: NonNullable<RunSummary['failure']>) {
  let steps: number | undefined;
  try {
    steps = decodeSchedule(f.schedule).steps;
  } catch {
    steps = undefined;
  }
  const p = (n: number | undefined): string => `${n ?? '?'} preemption${n === 1 ? '' : 's'}`;
  return html`<p class="muted" style="font-size:0.85rem;margin:0.4rem 0 0" data-testid="shrink-info" data-preemptions=${String(f.preemptions)}
    data-original-preemptions=${String(f.originalPreemptions ?? f.preemptions)} data-steps=${String(steps ?? '')} data-original-steps=${String(f.originalSteps ?? '')}>
    Smallest schedule: <b>${p(f.preemptions)}</b>${steps !== undefined ? html`, <b>${steps} steps</b>` : nothing}
    ${f.originalSchedule !== undefined
      ? html` — shrunk from the one the search found (${p(f.originalPreemptions)}, ${f.originalSteps} steps), replaying to the same failure.`
      : html` — the search's own schedule was already the smallest found.`}
  </p>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-run-result': RunResult;
  }
}
