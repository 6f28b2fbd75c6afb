import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { formatSite, type StackFrame } from '../../engine/source-site.ts';
import type { TraceStep } from '../../engine/trace.ts';
import { irqlName } from '../../machine/irql.ts';
import { loadScenarioSource } from '../lib/catalog.ts';
import { kernelRoutineSource, type RoutineSource } from '../lib/kernel-source.ts';
import { accessesOf, accessStory, describeOp, wordInFocus } from '../lib/step-text.ts';
import { base } from '../styles.ts';
import type { LineMark } from './code-view.ts';
import './code-view.ts';

/** What one CPU is doing at the selected step: its latest step at or before it. */
interface CpuView {
  cpu: number;
  /** Index of that step in the trace, -1 when the CPU has not stepped yet. */
  at: number;
  step?: TraceStep;
  frames: StackFrame[];
  /** The innermost frame with a source line: the line the CPU executes. */
  current?: StackFrame;
  kernel?: string;
}

/**
 * The code beside the timeline, one column per CPU, like the Deadlock
 * Empire: each CPU's scenario source with the line it executes at the
 * selected step highlighted, its whole call stack (actor → helpers → kernel
 * routines), what the step read or wrote, and on request the kernel routine
 * it is in. Selecting another step in the timeline moves every column.
 */
@customElement('rb-source-pane')
export class SourcePane extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .head { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; justify-content: space-between; margin-bottom: 0.6rem; }
      .head h3 { margin: 0; }
      .choice { display: flex; align-items: center; gap: 0.35rem; font-size: 0.85rem; font-weight: 400; }
      .cpus { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); gap: 0.9rem; }
      article { border: 1px solid var(--rb-border); border-radius: var(--rb-radius-sm); padding: 0.6rem 0.7rem; min-width: 0; --rb-code-max-height: 16rem; }
      article.active { border-color: var(--rb-accent); box-shadow: 0 0 0 1px var(--rb-accent); }
      article h4 { margin: 0 0 0.3rem; font-size: 0.95rem; text-transform: none; letter-spacing: normal; color: var(--rb-fg); }
      .ctx { font-weight: 400; color: var(--rb-muted); }
      .op { font-family: var(--rb-mono); font-size: 0.82rem; margin: 0 0 0.45rem; overflow-wrap: anywhere; }
      .op .when { color: var(--rb-muted); font-family: var(--rb-font); }
      ol.stack { list-style: none; margin: 0 0 0.5rem; padding: 0; font-family: var(--rb-mono); font-size: 0.78rem; }
      ol.stack li { padding-left: calc(var(--depth, 0) * 0.8rem); overflow-wrap: anywhere; }
      ol.stack li::before { content: '↳ '; color: var(--rb-muted); }
      ol.stack li:first-child::before { content: ''; }
      ol.stack .where { color: var(--rb-muted); }
      ol.stack .k { font-family: var(--rb-font); font-size: 0.7rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--rb-muted); margin-left: 0.3rem; }
      .kernel { margin-top: 0.5rem; }
      .story { font-size: 0.85rem; margin: 0 0 0.75rem; overflow-wrap: anywhere; }
      ul.recent { list-style: none; margin: 0 0 0.45rem; padding: 0; font-family: var(--rb-mono); font-size: 0.78rem; }
      ul.recent li { overflow-wrap: anywhere; }
      .when { color: var(--rb-muted); font-family: var(--rb-font); font-size: 0.75rem; }
      .kernel p, .none { font-size: 0.8rem; color: var(--rb-muted); margin: 0.2rem 0 0.35rem; }
    `,
  ];

  @property({ attribute: false }) steps: TraceStep[] = [];
  @property({ type: Number }) cpus = 1;
  /** Index in the trace; -1 (or out of range) means the last step. */
  @property({ type: Number }) selected = -1;
  /** The source of a user's scenario (frames name it user-scenario.js); library scenarios load their own. */
  @property({ attribute: false }) userSource?: string;
  @state() private showKernel = false;
  @state() private sources = new Map<string, string | null>();
  @state() private kernel = new Map<string, RoutineSource | null>();
  /** Files and routines being loaded (absent from the maps until they arrive; null there means "not available"). */
  private readonly loading = new Set<string>();

  private get at(): number {
    const n = this.steps.length;
    return this.selected >= 0 && this.selected < n ? this.selected : n - 1;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('steps') || changed.has('userSource')) this.sources = new Map();
    for (const v of this.views()) {
      const file = v.current?.file;
      if (file !== undefined && !this.sources.has(file) && !this.loading.has(`file:${file}`)) void this.loadSource(file);
      if (this.showKernel && v.kernel && !this.kernel.has(v.kernel) && !this.loading.has(`routine:${v.kernel}`)) void this.loadKernel(v.kernel);
    }
  }

  private async loadSource(file: string): Promise<void> {
    this.loading.add(`file:${file}`);
    let text: string | null = null;
    if (/user-scenario\.js$/.test(file)) text = this.userSource ?? null;
    else if (file.startsWith('/scenarios/')) text = await loadScenarioSource(file).catch(() => null);
    this.loading.delete(`file:${file}`);
    this.sources = new Map(this.sources).set(file, text);
  }

  private async loadKernel(name: string): Promise<void> {
    this.loading.add(`routine:${name}`);
    const r = await kernelRoutineSource(name).catch(() => undefined);
    this.loading.delete(`routine:${name}`);
    this.kernel = new Map(this.kernel).set(name, r ?? null);
  }

  private views(): CpuView[] {
    const at = this.at;
    const cpus = Math.max(this.cpus, ...this.steps.map((s) => s.cpu + 1));
    const out: CpuView[] = [];
    for (let cpu = 0; cpu < cpus; cpu++) {
      let i = at;
      while (i >= 0 && (this.steps[i]!.cpu !== cpu || this.steps[i]!.what !== 'step')) i--;
      const step = i >= 0 ? this.steps[i] : undefined;
      const frames = step?.frames ?? [];
      const current = [...frames].reverse().find((f) => f.line !== undefined);
      const kernel = [...frames].reverse().find((f) => f.file === undefined)?.fn ?? (step && step.routine !== step.context ? step.routine : undefined);
      out.push({ cpu, at: i, ...(step ? { step } : {}), frames, ...(current ? { current } : {}), ...(kernel ? { kernel } : {}) });
    }
    return out;
  }

  override render() {
    if (this.steps.length === 0) return nothing;
    const at = this.at;
    const views = this.views();
    const anySource = this.steps.some((s) => s.frames?.some((f) => f.line !== undefined));
    return html`<section aria-labelledby="source-h" data-testid="source-pane">
      <div class="head">
        <h3 id="source-h">Source at step ${(this.steps[at]?.step ?? 0) + 1}</h3>
        <label class="choice"><input type="checkbox" .checked=${this.showKernel} @change=${(e: Event) => { this.showKernel = (e.target as HTMLInputElement).checked; }} /> Show the kernel routine each CPU is in</label>
      </div>
      ${this.renderStory(at)}
      ${anySource ? nothing : html`<p class="none">This trace names no source lines (it was recorded from a bundled scenario or by an older version): only the call stacks by routine are shown.</p>`}
      <div class="cpus">${views.map((v) => this.renderCpu(v, at))}</div>
    </section>`;
  }

  /** How the value of the word in focus came about, across every CPU: the lost update in one line. */
  private renderStory(at: number) {
    const word = wordInFocus(this.steps, at);
    if (word === undefined) return nothing;
    const acc = accessesOf(this.steps, word, at);
    const name = acc[acc.length - 1]?.address ?? 'memory';
    return html`<p class="story" data-testid="access-story"><span class="mono">${name}</span> up to this step: <span class="mono">${accessStory(acc.slice(-8))}</span></p>`;
  }

  /** The CPU's latest reads and writes up to the step, with their values. */
  private renderRecent(cpu: number, at: number) {
    const recent: TraceStep[] = [];
    for (let i = at; i >= 0 && recent.length < 4; i--) {
      const s = this.steps[i]!;
      if (s.cpu === cpu && s.what === 'step' && (s.read !== undefined || s.wrote !== undefined)) recent.unshift(s);
    }
    if (recent.length === 0) return nothing;
    return html`<ul class="recent" aria-label=${`Latest values CPU ${cpu} read and wrote`} data-testid="cpu-values">${recent.map(
      (s) => html`<li>${describeOp(s)} <span class="when">step ${s.step + 1}</span></li>`,
    )}</ul>`;
  }

  private renderCpu(v: CpuView, at: number) {
    const s = v.step;
    const label = `CPU ${v.cpu}`;
    if (!s) {
      return html`<article aria-label=${label} data-testid=${`source-cpu-${v.cpu}`}><h4>${label} <span class="ctx">— not started yet</span></h4></article>`;
    }
    const text = v.current?.file !== undefined ? this.sources.get(v.current.file) : undefined;
    const marks = new Map<number, LineMark>();
    for (const f of v.frames) {
      if (f.line === undefined || f.file !== v.current?.file) continue;
      marks.set(f.line, f === v.current ? { kind: 'current', label } : { kind: 'caller', label: 'call' });
    }
    return html`<article class=${v.at === at ? 'active' : ''} aria-label=${label} data-testid=${`source-cpu-${v.cpu}`}>
      <h4>${label} <span class="ctx">— ${s.context} (${s.kind}), ${irqlName(s.irql)}</span></h4>
      <p class="op" data-testid="cpu-op">${describeOp(s)} <span class="when">${v.at === at ? '(this step)' : `(its last step, ${v.at + 1})`}</span></p>
      ${this.renderRecent(v.cpu, at)}
      ${v.frames.length
        ? html`<ol class="stack" aria-label=${`Call stack of ${label}, outermost first`}>${v.frames.map(
            (f, d) => html`<li style=${`--depth:${d}`}>${f.fn}${f.line !== undefined ? html` <span class="where">${formatSite({ file: f.file!, line: f.line, column: f.column ?? 0 })}</span>` : html`<span class="k">kernel</span>`}</li>`,
          )}</ol>`
        : nothing}
      ${text
        ? html`<rb-code-view .code=${text} .marks=${marks} .focusLine=${v.current?.line ?? 0} label=${`Source of ${s.context} on ${label}`}></rb-code-view>`
        : v.current
          ? html`<p class="none">${text === null ? 'The source of this file is not available here.' : 'Loading the source…'}</p>`
          : nothing}
      ${this.showKernel ? this.renderKernel(v, label) : nothing}
    </article>`;
  }

  private renderKernel(v: CpuView, label: string) {
    const name = v.kernel;
    if (!name) return html`<div class="kernel"><p>${label} is in no kernel routine at this step.</p></div>`;
    const r = this.kernel.get(name);
    if (r === undefined) return html`<div class="kernel"><p>Loading ${name}…</p></div>`;
    if (r === null) return html`<div class="kernel"><p>The source of ${name} is not available.</p></div>`;
    const lines = r.opLines.get(v.step!.op) ?? [];
    const marks = new Map<number, LineMark>(lines.map((l) => [l, lines.length === 1 ? { kind: 'current', label } : { kind: 'maybe', label: '?' }]));
    return html`<div class="kernel">
      <p>${name} (${r.file}:${r.firstLine})${lines.length > 1 ? ` — the kernel runs bundled, so of the marked lines where it performs a ${v.step!.op}, which one is not known` : ''}</p>
      <rb-code-view .code=${r.code} .marks=${marks} .firstLine=${r.firstLine} .focusLine=${lines[0] ?? 0} label=${`Kernel routine ${name} on ${label}`}></rb-code-view>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-source-pane': SourcePane;
  }
}
