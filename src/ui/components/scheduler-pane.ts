import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ManualState } from '../../engine/manual.ts';
import type { TraceStep } from '../../engine/trace.ts';
import type { Rig } from '../../machine/rig.ts';
import { scenarioRef, type ScenarioChoice } from '../lib/choice.ts';
import { replayLink } from '../lib/url.ts';
import type { Runner } from '../services/runner.ts';
import { base } from '../styles.ts';

/** Steps of the run so far shown under the choices (the latest ones). */
const SHOWN_STEPS = 14;

/**
 * Be the scheduler: the user picks, at every decision point, which CPU steps
 * next or which asynchronous event happens (a DPC or an interrupt arriving, a
 * quantum ending) — from the start, or from any step of the run on screen.
 * The engine offers exactly the enabled choices (src/engine/manual.ts, in a
 * worker: for a user's scenario, a worker of the scenario sandbox, so the page
 * only ever sees the choices' labels, the trace and the schedule as data); the
 * steps each pick caused are shown. What was picked is a schedule
 * string like any other: it replays (and is saved to the history), it is
 * shared as a link, and "Search from here" explores beyond it.
 *
 * Events: `replay-schedule` (detail: schedule), `search-from` (detail: { schedule, step }).
 */
@customElement('rb-scheduler-pane')
export class SchedulerPane extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; min-width: 0; }
      .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
      ul.choices { list-style: none; padding: 0; margin: 0.5rem 0; display: grid; gap: 0.35rem; }
      ul.choices button { width: 100%; text-align: left; font-family: var(--rb-mono); font-size: 0.82rem; white-space: normal; overflow-wrap: anywhere; }
      ul.choices .def { font-family: inherit; color: var(--rb-muted); font-size: 0.75rem; margin-left: 0.4rem; }
      ol.steps { list-style: none; padding: 0; margin: 0.5rem 0; font-family: var(--rb-mono); font-size: 0.78rem; display: grid; gap: 0.1rem; }
      ol.steps li { overflow-wrap: anywhere; padding: 0.05rem 0.3rem; border-radius: 3px; }
      ol.steps li.new { background: var(--rb-accent-soft); }
      .link { width: 100%; font-family: var(--rb-mono); font-size: 0.72rem; }
      .from { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; }
      .from input { width: 7rem; }
      .outcome { font-weight: 600; }
    `,
  ];

  @property({ attribute: false }) runner?: Runner;
  @property({ attribute: false }) rig?: Rig;
  @property({ attribute: false }) scenario?: ScenarioChoice;
  /** The schedule of the run on screen, to start from one of its steps. */
  @property({ attribute: false }) schedule?: string;
  /** Steps of that run. */
  @property({ type: Number }) steps = 0;
  /** Asked before the scenario's code runs (imported code runs only once the user said so); false runs nothing. */
  @property({ attribute: false }) mayRun?: (scenario: ScenarioChoice, via: string) => Promise<boolean>;

  @state() private manual?: ManualState;
  /** Trace length before the latest pick: the steps after it are what the pick caused. */
  @state() private seenSteps = 0;
  @state() private busy = false;
  @state() private error = '';
  @state() private fromStep = 0;
  @state() private note = '';
  private history: { state: ManualState; before: number }[] = [];

  /** Forget the manual run when the scenario or rig changes. */
  override willUpdate(changed: Map<string, unknown>): void {
    if ((changed.has('scenario') && changed.get('scenario') !== undefined) || (changed.has('rig') && changed.get('rig') !== undefined)) {
      this.manual = undefined;
      this.history = [];
      this.error = '';
    }
  }

  private get unavailable(): string | null {
    if (!this.runner?.manual) return 'the engine is loading';
    if (!this.rig || !this.scenario) return 'pick a rig and a scenario';
    return null;
  }

  private async call(req: { from?: { schedule?: string; step: number }; take?: number }): Promise<void> {
    const { runner, rig, scenario } = this;
    if (!runner?.manual || !rig || !scenario) return;
    this.busy = true;
    this.error = '';
    this.note = '';
    try {
      if (this.mayRun && !(await this.mayRun(scenario, 'The scheduler pane'))) return;
      const prev = this.manual;
      const next = await runner.manual({
        scenario: scenarioRef(scenario),
        rig,
        ...(req.from ? { from: req.from } : {}),
        ...(req.take !== undefined && prev?.step !== undefined ? { state: { picks: prev.picks, step: prev.step }, take: req.take } : {}),
      });
      if (prev && req.take !== undefined) this.history.push({ state: prev, before: this.seenSteps });
      else this.history = [];
      this.seenSteps = req.take !== undefined && prev ? prev.trace.length : next.trace.length;
      this.manual = next;
      await this.updateComplete;
      (this.renderRoot.querySelector('[data-focus]') as HTMLElement | null)?.focus();
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }

  private back(): void {
    const h = this.history.pop();
    if (!h) return;
    this.manual = h.state;
    this.seenSteps = h.before;
  }

  private link(): string | undefined {
    const m = this.manual;
    if (!m || !this.rig || !this.scenario || this.scenario.kind === 'user') return undefined;
    return replayLink(location.href, this.rig.id, this.scenario.id, m.schedule);
  }

  private async copy(): Promise<void> {
    const link = this.link();
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
      this.note = 'Link copied: it replays this hand-made schedule.';
    } catch {
      this.note = 'Copy the link below.';
    }
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  override render() {
    const why = this.unavailable;
    return html`<section class="card" aria-labelledby="sched-h" data-testid="scheduler">
      <h2 id="sched-h">Be the scheduler</h2>
      ${why
        ? html`<p class="muted">Unavailable: ${why}.</p>`
        : this.manual ? this.renderManual(this.manual) : this.renderStart()}
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : nothing}
    </section>`;
  }

  private renderStart() {
    return html`<p>Take the strategy's place: at every point where more than one thing can happen, pick which CPU steps next, or
        whether a DPC or an interrupt arrives or a quantum ends. What you pick replays exactly and can be shared as a link.</p>
      <div class="from">
        <button type="button" data-testid="manual-start" ?disabled=${this.busy} @click=${() => void this.call({ from: { step: 0 } })}>Take over from the first step</button>
        ${this.schedule
          ? html`<div class="field"><label for="from-step">Step of the run on screen</label>
                <input id="from-step" type="number" min="0" max=${this.steps} .value=${String(this.fromStep)}
                  @change=${(e: Event) => { this.fromStep = Math.max(0, Math.min(this.steps, Math.floor(Number((e.target as HTMLInputElement).value)) || 0)); }} /></div>
              <button type="button" data-testid="manual-from" ?disabled=${this.busy} @click=${() => void this.call({ from: { schedule: this.schedule!, step: this.fromStep } })}>Take over from this step</button>`
          : nothing}
      </div>`;
  }

  private renderManual(m: ManualState) {
    const link = this.link();
    const shown = m.trace.slice(-SHOWN_STEPS);
    const firstShown = m.trace.length - shown.length;
    return html`
      <p role="status" data-testid="manual-status">
        ${m.ended
          ? html`The run ended at step ${m.trace.length}: <span class="outcome" data-testid="manual-outcome">${describeOutcome(m)}</span>.`
          : html`Step ${m.step}: pick what happens next (${m.picks.length / 2} picked by hand so far).`}
      </p>
      ${m.ended
        ? nothing
        : html`<ul class="choices" aria-label="Enabled choices">
            ${m.choices.map((c, i) => html`<li><button type="button" ?data-focus=${i === 0} data-choice=${String(c.id)} data-kind=${c.kind} data-cpu=${String(c.cpu)} ?disabled=${this.busy}
              @click=${() => void this.call({ take: c.id })}>${c.label}${c.isDefault ? html`<span class="def">(default)</span>` : nothing}</button></li>`)}
          </ul>
          <p class="muted" style="font-size:0.85rem">If nobody picks again: <span data-testid="manual-default-outcome">${describeOutcome(m)}</span>.</p>`}
      <h3 style="font-size:0.9rem;margin:0.75rem 0 0">The run so far${m.trace.length > shown.length ? html` <span class="muted">(last ${shown.length} of ${m.trace.length} steps)</span>` : nothing}</h3>
      <ol class="steps" data-testid="manual-steps" aria-label="Steps of the run so far">
        ${shown.map((t, i) => html`<li class=${firstShown + i >= this.seenSteps ? 'new' : ''} data-cpu=${String(t.cpu)} data-op=${t.op}>${stepText(t)}</li>`)}
      </ol>
      <div class="row">
        <button type="button" ?disabled=${this.busy || this.history.length === 0} @click=${() => this.back()}>Back one pick</button>
        <button type="button" data-testid="manual-replay" ?disabled=${this.busy} @click=${() => this.emit('replay-schedule', m.schedule)}>Replay this schedule</button>
        <button type="button" data-testid="manual-search" ?disabled=${this.busy || m.ended} @click=${() => this.emit('search-from', { schedule: m.schedule, step: m.step })}>Search from here</button>
        ${link ? html`<button type="button" @click=${this.copy}>Copy link</button>` : nothing}
        <button type="button" ?disabled=${this.busy} @click=${() => { this.manual = undefined; this.history = []; }}>Stop</button>
      </div>
      ${link ? html`<label class="muted" style="font-size:0.8rem;display:block;margin-top:0.5rem">Link (the run as picked, the default choices after)
          <input class="link" readonly data-testid="manual-link" .value=${link} @focus=${(e: Event) => (e.target as HTMLInputElement).select()} /></label>`
        : html`<label class="muted" style="font-size:0.8rem;display:block;margin-top:0.5rem">Schedule (the run as picked, the default choices after; a link cannot carry your scenario's source, so share the scenario file and this string)
          <input class="link" readonly data-testid="manual-schedule" .value=${m.schedule} @focus=${(e: Event) => (e.target as HTMLInputElement).select()} /></label>`}
      ${this.note ? html`<p class="toast" role="status">${this.note}</p>` : nothing}
    `;
  }
}

function describeOutcome(m: ManualState): string {
  if (m.outcome === 'pass') return 'pass';
  const f = m.failure;
  if (!f) return m.outcome;
  if (f.bugcheck) return `bug check ${f.bugcheck.name}`;
  if (f.invariant) return `invariant '${f.invariant}' broken`;
  return `${m.outcome}: ${f.message}`;
}

function stepText(t: TraceStep): string {
  const where = t.what === 'step' ? `${t.kind} ${t.context}` : t.what === 'quantum' ? `quantum end (${t.context})` : t.what === 'flush' ? `store buffer: ${t.address ?? 'a store'} becomes visible` : `${t.context} arrives`;
  const op = t.what === 'step' ? ` ${t.op}${t.address ? ` ${t.address}` : ''}${t.routine !== t.context ? ` in ${t.routine}` : ''}` : '';
  return `#${t.step} CPU ${t.cpu} ${where}${op}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-scheduler-pane': SchedulerPane;
  }
}
