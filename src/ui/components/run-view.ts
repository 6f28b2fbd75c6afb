import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExploreStrategy } from '../../engine/explore.ts';

// The engine's defaults (engine/explore.ts), restated so the page does not load the engine.
const DEFAULT_DEPTH = 3;
const DEFAULT_PREEMPTION_BOUND = 2;
import type { RunSummary } from '../../engine/outcome.ts';
import type { TraceStep } from '../../engine/trace.ts';
import { presetRig } from '../../machine/presets.ts';
import { activeCpuCount, logicalCpuCount, type Rig } from '../../machine/rig.ts';
import { freeRunRigRefusal } from '../../engine/free/availability.ts';
import { historyContext, runnerContext } from '../context.ts';
import { RunController } from '../controllers/run-controller.ts';
import { scenarioRef, type ScenarioChoice } from '../lib/choice.ts';
import { formatDuration, formatRate, int, outcomeLabel } from '../lib/format.ts';
import type { HistoryService } from '../services/history-service.ts';
import type { EngineKind, ExploreJob, Runner } from '../services/runner.ts';
import { base } from '../styles.ts';
import './run-result.ts';
import { hasOrderingAccesses } from './fence-suggestions.ts';
import './scheduler-pane.ts';

export interface RunSettings {
  engine: EngineKind;
  strategy: ExploreStrategy;
  depth: number;
  preemptionBound: number;
  seed: number;
  schedules: number;
  workers: number;
}

/**
 * Running: engine, strategy, seed, budget and workers; start, progress with
 * schedules/s and an estimate, cancel at any time; then the result. Every
 * run is saved to the history, and a failure is replayed once with tracing
 * on to draw its timeline. The page only waits on workers.
 */
@customElement('rb-run-view')
export class RunView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: grid; gap: 1rem; min-width: 0; }
      :host > * { min-width: 0; }
      form { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: 0.85rem 1rem; align-items: start; }
      fieldset { border: 1px solid var(--rb-border); border-radius: var(--rb-radius-sm); padding: 0.4rem 0.75rem 0.6rem; margin: 0; }
      legend { font-size: 0.85rem; font-weight: 500; padding: 0 0.25rem; }
      .choice { display: flex; align-items: center; gap: 0.35rem; font-weight: 400; margin-top: 0.2rem; }
      .what { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; margin-bottom: 1rem; }
      .what .k { color: var(--rb-muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; margin-right: 0.35rem; }
      .what strong { font-family: var(--rb-mono); font-size: 0.9rem; }
      .go { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; margin-top: 1rem; }
      .go .primary { font-size: 1rem; padding: 0.5rem 1.4rem; }
      progress { appearance: none; width: 100%; height: 0.6rem; border: 0; border-radius: 999px; overflow: hidden; background: var(--rb-border); }
      progress::-webkit-progress-bar { background: var(--rb-border); border-radius: 999px; }
      progress::-webkit-progress-value { background: var(--rb-accent); border-radius: 999px; transition: width 0.2s; }
      progress::-moz-progress-bar { background: var(--rb-accent); border-radius: 999px; }
      .status-head { display: flex; justify-content: space-between; align-items: baseline; margin-bottom: 0.5rem; }
      .status-head h3 { margin: 0; display: flex; align-items: center; gap: 0.5rem; }
      .status-head label { font-size: 1rem; font-weight: 600; }
      .pct { font-variant-numeric: tabular-nums; color: var(--rb-muted); font-weight: 600; }
      .live { width: 0.6rem; height: 0.6rem; border-radius: 50%; background: var(--rb-accent); box-shadow: 0 0 0 4px var(--rb-accent-soft); }
      dl.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.75rem; margin: 1rem 0 0; }
      dl.tiles div { background: var(--rb-surface-2); border: 1px solid var(--rb-border); border-radius: var(--rb-radius-sm); padding: 0.6rem 0.8rem; }
      dl.tiles dt { font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--rb-muted); }
      dl.tiles dd { margin: 0.2rem 0 0; font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
      dl.tiles small { font-size: 0.75rem; font-weight: 400; color: var(--rb-muted); }
    `,
  ];

  @consume({ context: runnerContext, subscribe: true }) @state() runner?: Runner;
  @consume({ context: historyContext, subscribe: true }) @state() history?: HistoryService;

  @property({ attribute: false }) rig?: Rig;
  @property({ attribute: false }) rigErrors: string[] = [];
  @property({ attribute: false }) scenario?: ScenarioChoice;
  /**
   * Asked before a run or replay starts running the scenario's code; false runs nothing. The app asks the user
   * before code imported from a file runs (confirm-run.ts), whichever button started it.
   */
  @property({ attribute: false }) mayRun?: (scenario: ScenarioChoice, via: string) => Promise<boolean>;
  @property({ attribute: false }) settings: RunSettings = { engine: 'controlled', strategy: 'portfolio', depth: DEFAULT_DEPTH, preemptionBound: DEFAULT_PREEMPTION_BOUND, seed: 1, schedules: 2000, workers: Math.max(1, Math.min(16, (navigator.hardwareConcurrency || 2) - 1)) };
  @state() private tracing = false;
  @state() private saveError = '';
  @state() private heading = 'Result';
  /** Number fields whose text is not a valid value yet, with the reason shown under the field. */
  @state() private fieldErrors: Partial<Record<NumberSetting, string>> = {};
  /** What the live region says when a run ends (screen readers hear it; focus moves to the result). */
  @state() private announcement = '';

  readonly run = new RunController(this);

  private set<K extends keyof RunSettings>(key: K, value: RunSettings[K]): void {
    this.settings = { ...this.settings, [key]: value };
    this.dispatchEvent(new CustomEvent('settings-change', { detail: this.settings, bubbles: true, composed: true }));
  }

  /**
   * A number field validated when the user commits it (change: Enter or leaving the field), never while
   * typing: rewriting the text on each keystroke turned a cleared budget into "1" and "500" into "1500".
   */
  private numberField(key: NumberSetting, label: string, min: number, max: number, hint?: string) {
    const id = key === 'schedules' ? 'budget' : key === 'preemptionBound' ? 'bound' : key;
    const error = this.fieldErrors[key];
    const value = key === 'workers' ? Math.min(this.settings.workers, max) : this.settings[key];
    const commit = (e: Event): void => {
      const r = parseWholeNumber((e.target as HTMLInputElement).value, min, max);
      const { [key]: _, ...rest } = this.fieldErrors;
      if ('error' in r) {
        this.fieldErrors = { ...rest, [key]: r.error };
        return;
      }
      this.fieldErrors = rest;
      this.set(key, r.value);
    };
    return html`<div class="field">
      <label for=${id}>${label}</label>
      <input id=${id} type="text" inputmode="numeric" autocomplete="off" .value=${String(value)}
        aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? `${id}-error` : nothing} @change=${commit} />
      ${error ? html`<span class="field-error" id=${`${id}-error`} role="alert">${error}</span>` : hint ? html`<span class="hint">${hint}</span>` : nothing}
    </div>`;
  }

  get canRun(): boolean {
    return !!this.runner && !!this.rig && !!this.scenario && !this.run.busy && Object.keys(this.fieldErrors).length === 0 && !(this.settings.engine === 'free' && (freeRunRigRefusal(this.rig) !== null || this.runner.freeRunUnavailable(scenarioRef(this.scenario))));
  }

  /** Starts an exploration with the current settings; with `prefix`, a search from that point of a schedule. */
  async start(prefix?: { schedule: string; step: number }): Promise<void> {
    const { runner, rig, scenario } = this;
    if (!runner || !rig || !scenario || !this.canRun) return;
    if (this.mayRun && !(await this.mayRun(scenario, 'The Start button'))) return;
    const st = this.settings;
    const job: ExploreJob = {
      scenario: scenarioRef(scenario),
      rig,
      strategy: st.strategy,
      seed: st.seed,
      schedules: st.schedules,
      depth: st.depth,
      preemptionBound: st.preemptionBound,
      engine: st.engine,
      workers: Math.max(1, Math.min(st.workers, runner.maxWorkers)),
      // A failure is shown with its smallest schedule (src/engine/shrink.ts).
      shrink: true,
      ...(prefix ? { prefix } : {}),
    };
    this.saveError = '';
    this.heading = prefix ? `Search from step ${prefix.step}` : 'Result';
    this.announcement = '';
    const summary = await this.run.explore(runner, job);
    if (!summary) {
      if (this.run.phase === 'failed') this.announcement = `The run could not complete: ${this.run.error ?? ''}`;
      return;
    }
    // save() reads the rig and scenario at once: started before anything awaits, so a link opened meanwhile
    // (a new scenario) cannot be saved under this run.
    const saved = this.save(summary, job);
    await this.announce(summary);
    const runId = await saved;
    if (summary.failure?.schedule && st.engine === 'controlled') await this.recordTrace(runId, rig, scenario);
  }

  /** Says how the run ended in the live region and puts keyboard focus on the result's heading. */
  private async announce(summary: RunSummary): Promise<void> {
    const cancelled = this.run.phase === 'cancelled';
    this.announcement = cancelled
      ? `Run cancelled after ${int(summary.schedulesRun)} schedules${summary.failure ? `: ${outcomeLabel(summary)}` : ', no failure so far'}.`
      : `Run finished: ${outcomeLabel(summary)} after ${int(summary.schedulesRun)} schedules.`;
    await this.updateComplete;
    const result = this.renderRoot.querySelector('rb-run-result');
    if (result) {
      await result.updateComplete;
      result.focusHeading();
    }
  }

  /** Replays a schedule exactly (a shared link, or a run from the history). */
  async replay(schedule: string, opts: { save?: boolean; heading?: string } = {}): Promise<RunSummary | undefined> {
    const { runner, rig, scenario } = this;
    if (!runner || !rig || !scenario) return undefined;
    if (this.mayRun && !(await this.mayRun(scenario, opts.heading ?? 'A replay'))) return undefined;
    this.saveError = '';
    this.heading = opts.heading ?? 'Replay';
    const s = await this.run.replay(runner, { scenario: scenarioRef(scenario), rig, schedule, trace: true });
    if (s && opts.save !== false) {
      const id = await this.save(s, { engine: 'controlled', strategy: 'replay', seed: 0, schedules: 1 });
      if (id !== undefined && this.run.trace) await this.history?.putTrace(id, this.run.trace).catch((e: unknown) => this.showSaveError(e));
    }
    return s;
  }

  /** Replays the run's failure on the rig and scenario it ran on (captured at Start: a link may have changed them since). */
  private async recordTrace(runId: number | undefined, rig: Rig, scenario: ScenarioChoice): Promise<void> {
    const { runner } = this;
    const schedule = this.run.summary?.failure?.schedule;
    if (!runner || !schedule) return;
    this.tracing = true;
    try {
      const r = await runner.replay({ scenario: scenarioRef(scenario), rig, schedule, trace: true });
      // Another run may have started meanwhile (a link opened in the page): the trace is this run's only.
      if (this.run.summary?.failure?.schedule === schedule) this.run.setTrace(r.trace);
      if (runId !== undefined && r.trace) await this.history?.putTrace(runId, r.trace);
    } catch (e) {
      this.showSaveError(e);
    } finally {
      this.tracing = false;
    }
  }

  private async save(s: RunSummary, job: Pick<ExploreJob, 'engine' | 'strategy' | 'seed' | 'schedules'> & { depth?: number; preemptionBound?: number } | { engine: EngineKind; strategy: string; seed: number; schedules: number; depth?: number; preemptionBound?: number }): Promise<number | undefined> {
    const h = this.history;
    const { rig, scenario } = this;
    if (!h || !rig || !scenario) return undefined;
    try {
      const stored = await h.addRun({
        rig,
        scenario: { id: scenario.id, version: scenario.version, title: scenario.title },
        engine: job.engine,
        strategy: job.strategy,
        seed: job.seed,
        budget: job.schedules,
        ...(job.strategy === 'pct' && job.depth !== undefined ? { depth: job.depth } : {}),
        ...(job.strategy === 'dfs' && job.preemptionBound !== undefined ? { preemptionBound: job.preemptionBound } : {}),
        outcome: s.outcome,
        // A free-run failure's schedule is empty: it cannot be replayed.
        ...(s.failure ? { failure: s.failure } : {}),
        schedulesRun: s.schedulesRun,
        steps: s.steps,
        elapsedMs: s.elapsedMs,
        ...(s.exhausted ? { exhausted: true } : {}),
        ...(s.failingSchedule !== undefined ? { failingSchedule: s.failingSchedule } : {}),
        ...(this.run.phase === 'cancelled' ? { cancelled: true } : {}),
      });
      this.dispatchEvent(new CustomEvent('run-saved', { detail: stored, bubbles: true, composed: true }));
      return stored.id;
    } catch (e) {
      this.showSaveError(e);
      return undefined;
    }
  }

  private showSaveError(e: unknown): void {
    const err = e as Error;
    this.saveError = err?.name === 'StorageFullError' ? `The history is full: ${err.message}. This run was not saved.` : `Could not save to the history: ${err?.message ?? String(e)}`;
  }

  /** Shows a stored run (from the history) without running anything. */
  show(summary: RunSummary, trace: TraceStep[] | undefined, heading: string): void {
    this.run.reset();
    this.run.summary = summary;
    this.run.trace = trace;
    this.run.phase = 'done';
    this.heading = heading;
    this.requestUpdate();
  }

  override render() {
    const st = this.settings;
    const rig = this.rig;
    const freeWhy = (rig ? freeRunRigRefusal(rig) : null) ?? (this.runner ? this.runner.freeRunUnavailable(this.scenario ? scenarioRef(this.scenario) : undefined) : 'the engine is loading');
    const ctl = this.run;
    const maxW = this.runner?.maxWorkers ?? 1;
    return html`
      <div class="visually-hidden" role="status" aria-live="polite" data-testid="announcer">${this.announcement}</div>
      <section class="card" aria-labelledby="run-h">
        <h2 id="run-h">Run</h2>
        <div class="what">
          <span><span class="k">Rig</span><strong>${rig?.id ?? '—'}</strong>${rig ? html` <span class="muted">(${activeCpuCount(rig)} of ${logicalCpuCount(rig)} CPUs run, ${rig.arch === 'arm64' ? 'ARM64' : 'x64'}, ${rig.hal.toUpperCase()} HAL, ${rig.build})</span>` : nothing}</span>
          <span><span class="k">Scenario</span><strong>${this.scenario?.id ?? '—'}</strong>${this.scenario?.kind === 'user' ? html` <span class="pill">yours</span>` : nothing}</span>
        </div>
        ${this.rigErrors.length ? html`<div class="banner error" role="alert" style="margin-bottom:1rem">The rig is invalid and cannot be run: ${this.rigErrors.join('; ')}. Fix it in “The box”.</div>` : nothing}
        <form @submit=${(e: Event) => { e.preventDefault(); void this.start(); }}>
          <fieldset>
            <legend>Engine</legend>
            <label class="choice"><input type="radio" name="engine" value="controlled" .checked=${st.engine === 'controlled'} @change=${() => this.set('engine', 'controlled')} /> Controlled (deterministic)</label>
            <label class="choice" title=${freeWhy ?? ''}><input type="radio" name="engine" value="free" .checked=${st.engine === 'free'} ?disabled=${!!freeWhy} @change=${() => this.set('engine', 'free')} /> Free-run (real workers)</label>
            ${freeWhy ? html`<span class="hint" style="font-size:0.75rem;color:var(--rb-muted)">Free-run unavailable: ${freeWhy}</span>` : nothing}
          </fieldset>
          ${st.engine === 'free' ? nothing : html`<div class="field">
            <label for="strategy">Strategy</label>
            <select id="strategy" .value=${st.strategy} @change=${(e: Event) => this.set('strategy', (e.target as HTMLSelectElement).value as ExploreStrategy)}>
              <option value="portfolio" ?selected=${st.strategy === 'portfolio'}>Portfolio (PCT d=1–5, random, POS)</option>
              <option value="pct" ?selected=${st.strategy === 'pct'}>PCT (probabilistic)</option>
              <option value="random" ?selected=${st.strategy === 'random'}>Random</option>
              <option value="pos" ?selected=${st.strategy === 'pos'}>POS (partial order sampling)</option>
              <option value="dfs" ?selected=${st.strategy === 'dfs'}>DFS (systematic)</option>
            </select>
          </div>`}
          ${st.engine === 'controlled' && st.strategy === 'pct' ? this.numberField('depth', 'PCT depth d', 1, 10) : nothing}
          ${st.engine === 'controlled' && st.strategy === 'dfs' ? this.numberField('preemptionBound', 'Preemption bound', 0, 10) : nothing}
          ${st.engine === 'controlled' ? this.numberField('seed', 'Seed', 0, 2 ** 31 - 1) : nothing}
          ${this.numberField('schedules', st.engine === 'free' ? 'Budget (iterations)' : 'Budget (schedules)', 1, 10_000_000)}
          ${st.engine === 'controlled'
            ? this.numberField('workers', 'Workers', 1, maxW, `up to ${maxW} on this machine`)
            : html`<p class="hint">Free-run starts one worker per CPU of the rig${rig ? ` (${activeCpuCount(rig)})` : ''}; it has no strategy: the host's scheduler interleaves the CPUs, so a free-run cannot be replayed.</p>`}
        </form>
        <div class="go">
          ${ctl.busy
            ? html`<button type="button" class="danger" @click=${() => ctl.cancel()}>Cancel</button>`
            : html`<button type="button" class="primary" ?disabled=${!this.canRun} @click=${() => void this.start()}>Start</button>`}
          ${!this.runner ? html`<span class="muted">Starting the workers…</span>` : nothing}
        </div>
        ${this.saveError ? html`<div class="banner error" role="alert" style="margin-top:0.75rem">${this.saveError}</div>` : nothing}
        ${ctl.error ? html`<div class="banner error" role="alert" style="margin-top:0.75rem">The run could not complete: ${ctl.error}</div>` : nothing}
      </section>
      ${ctl.hasProgress ? this.renderProgress() : nothing}
      ${ctl.summary && (ctl.phase === 'done' || ctl.phase === 'cancelled')
        ? html`<rb-run-result .summary=${ctl.summary} .trace=${ctl.trace} .cpus=${rig ? logicalCpuCount(rig) : 1} .actors=${this.scenario?.actors ?? 2}
            .depth=${st.depth} .userScenario=${this.scenario?.kind === 'user'} .linkRig=${rig && !presetRig(rig.id) ? rig : undefined} .userSource=${this.scenario?.kind === 'user' ? this.scenario.source : undefined} .tracing=${this.tracing} heading=${ctl.phase === 'cancelled' ? 'Cancelled' : this.heading}
            @replay=${() => { const sch = ctl.summary?.failure?.schedule; if (sch) void this.replay(sch); }}></rb-run-result>`
        : nothing}
      ${ctl.phase === 'done' && ctl.summary?.failure?.schedule && hasOrderingAccesses(ctl.trace)
        ? html`<rb-fence-suggestions .runner=${this.runner} .rig=${rig} .scenario=${this.scenario} .summary=${ctl.summary}></rb-fence-suggestions>`
        : nothing}
      ${st.engine === 'controlled'
        ? html`<rb-scheduler-pane .runner=${this.runner} .rig=${rig} .scenario=${this.scenario} .mayRun=${this.mayRun} .schedule=${ctl.busy ? undefined : ctl.summary?.failure?.schedule || undefined}
            .steps=${ctl.summary?.failure?.step ?? 0}
            @replay-schedule=${(e: CustomEvent<string>) => void this.replay(e.detail, { heading: 'Replay of a hand-made schedule' })}
            @search-from=${(e: CustomEvent<{ schedule: string; step: number }>) => void this.start(e.detail)}></rb-scheduler-pane>`
        : nothing}
    `;
  }

  private renderProgress() {
    const ctl = this.run;
    const p = ctl.progress;
    const replaying = ctl.phase === 'replaying';
    const label = replaying ? 'Replaying the schedule' : ctl.phase === 'exploring' ? 'Exploring schedules' : ctl.phase === 'cancelled' ? 'Cancelled' : ctl.phase === 'failed' ? 'Stopped' : ctl.summary?.failure ? 'Stopped at the first failure' : ctl.summary?.exhausted ? 'Explored every schedule in the bound' : 'Budget explored: no failure';
    const elapsed = ctl.busy ? performance.now() - ctl.startedAt : ctl.wallMs;
    const pct = ctl.budget > 0 ? Math.min(100, (p.schedulesRun / ctl.budget) * 100) : 0;
    const unit = this.run.job?.engine === 'free' ? 'iterations' : 'schedules';
    return html`<section class="card status" aria-labelledby="status-h" data-testid="progress">
      <div class="status-head">
        <h3 id="status-h">${ctl.busy ? html`<span class="live" aria-hidden="true"></span>` : nothing}<label for="run-progress">${label}</label></h3>
        ${replaying ? nothing : html`<span class="pct">${pct.toFixed(pct < 10 ? 1 : 0)} %</span>`}
      </div>
      ${replaying
        ? html`<progress id="run-progress"></progress>`
        : html`<progress id="run-progress" max=${ctl.budget} .value=${p.schedulesRun}></progress>`}
      ${replaying
        ? nothing
        : html`<dl class="tiles">
            <div><dt>${unit}</dt><dd>${int(p.schedulesRun)} <small>/ ${int(ctl.budget)}</small></dd></div>
            <div><dt>${unit}/s</dt><dd>${formatRate(ctl.rate)}</dd></div>
            <div><dt>steps</dt><dd>${int(p.steps)}</dd></div>
            <div><dt>elapsed</dt><dd>${formatDuration(elapsed)}</dd></div>
            <div><dt>${ctl.busy ? 'time left' : 'workers'}</dt><dd>${ctl.busy ? html`${formatDuration(ctl.etaMs)} <small>left at most</small>` : String(this.run.job?.engine === 'free' && this.rig ? activeCpuCount(this.rig) : this.run.job?.workers ?? 1)}</dd></div>
          </dl>`}
    </section>`;
  }
}

/** The run settings typed into number fields. */
type NumberSetting = 'depth' | 'preemptionBound' | 'seed' | 'schedules' | 'workers';

/** A whole number in [min, max], or why the text is not one. */
export function parseWholeNumber(text: string, min: number, max: number): { value: number } | { error: string } {
  const t = text.trim();
  const range = `a whole number from ${int(min)} to ${int(max)}`;
  if (!/^\d+$/.test(t)) return { error: t === '' ? `Enter ${range}.` : `“${t.slice(0, 20)}” is not ${range}.` };
  const n = Number(t);
  return n < min || n > max ? { error: `${int(n)} is out of range: enter ${range}.` } : { value: n };
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-run-view': RunView;
  }
}
