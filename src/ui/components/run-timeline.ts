import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { formatSite } from '../../engine/source-site.ts';
import type { TraceStep } from '../../engine/trace.ts';
import { irqlName } from '../../machine/irql.ts';
import { describeOp, describeStep, formatValue } from '../lib/step-text.ts';
import { buildTimeline, type TimelineModel } from '../lib/trace-model.ts';
import { describeBufferedStore, hasWeakSteps, weakNote, weakTrace, type WeakTrace } from '../lib/weak-trace.ts';
import { base } from '../styles.ts';

type Ctx2D = CanvasRenderingContext2D;

const LANE_H = 70;
/** A weak-memory trace adds a row under the lock holds for the CPU's buffered stores. */
const WEAK_LANE_H = 84;
const WEAK_ROW = 69;
const HEADER_W = 76;
const AXIS_H = 22;

/**
 * The run, one lane per logical CPU: IRQL as background bands, the context
 * running (thread, DPC, ISR) and its routine, lock holds, arrivals, quantum
 * ends and IRP calls; the failure marked. A virtualised canvas: only the
 * visible steps are drawn, so runs of thousands of steps zoom and scroll
 * smoothly. On weak memory, each buffered store is drawn from the step that
 * wrote it to the step it became visible, and a read that saw an older value
 * is marked. Step with ←/→ (or the buttons); the inspector shows what every
 * CPU is doing at the selected step.
 */
@customElement('rb-run-timeline')
export class RunTimeline extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .toolbar { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin-bottom: 0.6rem; }
      .toolbar .sep { width: 1px; align-self: stretch; background: var(--rb-border); margin: 0 0.25rem; }
      .toolbar input[type='range'] { flex: 1 1 12rem; min-width: 8rem; padding: 0; }
      .pos { font-variant-numeric: tabular-nums; font-size: 0.85rem; min-width: 9rem; }
      .viewport { position: relative; border: 1px solid var(--rb-border); border-radius: var(--rb-radius-sm); background: var(--rb-surface); }
      .scroller { overflow-x: auto; overflow-y: hidden; }
      .spacer { height: 1px; }
      canvas { position: absolute; left: 0; top: 0; display: block; cursor: crosshair; }
      canvas:focus-visible { outline: 2px solid var(--rb-focus, var(--rb-accent)); outline-offset: 2px; }
      .legend { display: flex; flex-wrap: wrap; gap: 0.35rem 1rem; font-size: 0.78rem; color: var(--rb-muted); margin: 0.5rem 0 0; }
      .sw { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; vertical-align: -2px; margin-right: 0.3rem; }
      .inspector { margin-top: 0.9rem; }
      .inspector .what { font-size: 0.9rem; margin-bottom: 0.5rem; }
      tr.active td, tr.active th { background: var(--rb-accent-soft); }
      .sw.buffered { background: var(--rb-tl-buffered-bg); border: 2px solid var(--rb-tl-buffered); box-sizing: border-box; }
      .stale-sw { color: var(--rb-tl-stale); font-weight: 700; }
      .weak-note { border-left: 4px solid var(--rb-tl-stale); padding: 0.35rem 0.6rem; background: var(--rb-surface-2); border-radius: var(--rb-radius-sm); font-size: 0.9rem; }
      .weak-note.store { border-left-color: var(--rb-tl-buffered); }
      .weak-list { margin: 0.6rem 0 0; font-size: 0.85rem; }
      .weak-list ul { margin: 0.3rem 0 0; padding-left: 1.1rem; display: grid; gap: 0.2rem; }
      .weak-list button.link { background: none; border: 0; padding: 0; color: var(--rb-accent-text, var(--rb-accent)); text-decoration: underline; cursor: pointer; font: inherit; text-align: left; }
    `,
  ];

  @property({ attribute: false }) steps: TraceStep[] = [];
  @property({ type: Number }) cpus = 1;
  @property({ type: Boolean }) failed = false;
  /** CPUs the failure's snapshot shows idle at the end: their last slice is not stretched to the end. */
  @property({ attribute: false }) idleAtEnd: ReadonlySet<number> = new Set();
  @state() selected = 0;
  @state() private pxPerStep = 12;
  @state() private scrollX = 0;
  @state() private width = 800;
  @query('canvas') private canvas!: HTMLCanvasElement;
  @query('.scroller') private scroller!: HTMLDivElement;
  private model?: TimelineModel;
  /** The trace's buffered stores and stale reads (empty on sequentially consistent runs). */
  private weak: WeakTrace = weakTrace([]);
  private hasWeak = false;
  /** Steps name scenario source lines (not in a production bundle, whose lines are the bundle's). */
  private hasSource = false;
  private resize?: ResizeObserver;
  private colors: Record<string, string> = {};

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize = new ResizeObserver((entries) => {
      const w = Math.round(entries[entries.length - 1]?.contentRect.width ?? this.width - HEADER_W) + HEADER_W;
      if (w > 0 && w !== this.width) {
        const wasFit = this.pxPerStep === this.fitZoom();
        this.width = w;
        if (wasFit) this.pxPerStep = this.fitZoom();
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
  }

  override firstUpdated(): void {
    // The observer reports the first size too, without forcing a synchronous layout here.
    this.resize?.observe(this.scroller);
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('steps') || changed.has('cpus') || changed.has('failed') || changed.has('idleAtEnd')) {
      this.model = buildTimeline(this.steps, this.cpus, this.failed, this.idleAtEnd);
      this.hasWeak = hasWeakSteps(this.steps);
      this.weak = weakTrace(this.hasWeak ? this.steps : []);
      this.hasSource = this.steps.some((x) => x.source && !/\/assets\//.test(x.source.file));
      this.selected = Math.max(0, this.steps.length - 1);
      this.pxPerStep = this.fitZoom();
      this.scrollX = 0;
    }
  }

  private frame = 0;

  override updated(): void {
    // Draw in the next animation frame: coalesces bursts of updates and keeps drawing out of the task that rendered the DOM.
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private get laneH(): number {
    return this.hasWeak ? WEAK_LANE_H : LANE_H;
  }

  private get n(): number {
    return this.steps.length;
  }

  private fitZoom(): number {
    const avail = Math.max(100, (this.width || 800) - HEADER_W - 8);
    return Math.max(0.05, Math.min(28, avail / Math.max(1, this.n)));
  }

  private get trackWidth(): number {
    return Math.max(0, this.width - HEADER_W);
  }

  /** Selects a step and scrolls it into view. */
  select(i: number): void {
    const n = this.n;
    if (n === 0) return;
    this.selected = Math.max(0, Math.min(n - 1, i));
    const x = this.selected * this.pxPerStep;
    const tw = this.trackWidth;
    if (x < this.scrollX || x > this.scrollX + tw - this.pxPerStep) {
      const target = Math.max(0, x - tw / 2);
      this.scroller.scrollLeft = target;
      this.scrollX = this.scroller.scrollLeft;
    }
    this.dispatchEvent(new CustomEvent('step-select', { detail: this.selected }));
  }

  /** Puts keyboard focus on the timeline (after a "go to step" link), so the arrow keys step from there. */
  focusCanvas(): void {
    this.canvas?.focus({ preventScroll: true });
  }

  /** The tooltip names the step under the pointer, with the values it read and wrote. */
  private onHover(e: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - HEADER_W;
    const i = Math.floor((this.scrollX + x) / this.pxPerStep);
    const s = x >= 0 ? this.steps[i] : undefined;
    const note = s && this.hasWeak ? weakNote(this.steps, this.weak, i) : undefined;
    this.canvas.title = s ? `Step ${s.step + 1}: ${describeStep(s)}${note ? `\n${note}` : ''}` : '';
  }

  /**
   * Zooms about `anchorX` (the pointer, for the wheel). Without one (the buttons) it zooms about the
   * selected step, which stays where it is on screen, or is brought to the middle when it was off
   * screen: zooming about the middle of the view lost the selection.
   */
  private zoom(factor: number, anchorX?: number): void {
    const old = this.pxPerStep;
    const next = Math.max(this.fitZoom(), Math.min(60, old * factor));
    if (next === old) return;
    let anchor = anchorX;
    let stepAtAnchor: number;
    if (anchor === undefined) {
      const selX = (this.selected + 0.5) * old - this.scrollX;
      anchor = selX >= 0 && selX <= this.trackWidth ? selX : this.trackWidth / 2;
      stepAtAnchor = this.selected + 0.5;
    } else {
      stepAtAnchor = (this.scrollX + anchor) / old;
    }
    const maxScroll = Math.max(0, this.n * next - this.trackWidth);
    const target = Math.round(Math.min(maxScroll, Math.max(0, stepAtAnchor * next - anchor)));
    // One update for zoom and scroll together; the scroll event that follows carries the same value.
    this.pxPerStep = next;
    this.scrollX = target;
    void this.updateComplete.then(() => {
      this.scroller.scrollLeft = target;
    });
  }

  private onKey(e: KeyboardEvent): void {
    const big = e.shiftKey ? 10 : 1;
    const handled = (() => {
      switch (e.key) {
        case 'ArrowRight': this.select(this.selected + big); return true;
        case 'ArrowLeft': this.select(this.selected - big); return true;
        case 'Home': this.select(0); return true;
        case 'End': this.select(this.n - 1); return true;
        case '+': case '=': this.zoom(1.5); return true;
        case '-': this.zoom(1 / 1.5); return true;
        default: return false;
      }
    })();
    if (handled) e.preventDefault();
  }

  private onWheel(e: WheelEvent): void {
    if (!e.ctrlKey && !e.metaKey) {
      const dx = e.deltaX || (e.shiftKey ? e.deltaY : 0);
      if (dx) {
        e.preventDefault();
        this.scroller.scrollLeft += dx;
      }
      return;
    }
    e.preventDefault();
    const rect = this.canvas.getBoundingClientRect();
    this.zoom(e.deltaY < 0 ? 1.25 : 0.8, Math.max(0, e.clientX - rect.left - HEADER_W));
  }

  private onClick(e: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - HEADER_W;
    if (x < 0) return;
    this.select(Math.floor((this.scrollX + x) / this.pxPerStep));
    this.canvas.focus();
  }

  private readColors(): void {
    const cs = getComputedStyle(this);
    const v = (name: string, fallback: string): string => cs.getPropertyValue(name).trim() || fallback;
    this.colors = {
      bg: v('--rb-surface', '#fff'),
      fg: v('--rb-fg', '#1b1f24'),
      muted: v('--rb-muted', '#5b6470'),
      grid: v('--rb-border', '#d7dbe0'),
      thread: v('--rb-tl-thread', '#3b82f6'),
      dpc: v('--rb-tl-dpc', '#8b5cf6'),
      isr: v('--rb-tl-isr', '#ef4444'),
      irql0: v('--rb-tl-irql-passive', 'transparent'),
      irql1: v('--rb-tl-irql-apc', '#eef6ff'),
      irql2: v('--rb-tl-irql-dispatch', '#fff4e0'),
      irqlHigh: v('--rb-tl-irql-dirql', '#ffe4e4'),
      lock: v('--rb-tl-lock', '#0f766e'),
      irp: v('--rb-tl-irp', '#d97706'),
      failure: v('--rb-warn', '#b3261e'),
      cursor: v('--rb-accent', '#0b5fff'),
      buffered: v('--rb-tl-buffered', '#b45309'),
      bufferedBg: v('--rb-tl-buffered-bg', '#fde9c8'),
      stale: v('--rb-tl-stale', '#be185d'),
    };
  }

  private draw(): void {
    const model = this.model;
    const canvas = this.canvas;
    if (!model || !canvas) return;
    this.readColors();
    const c = this.colors;
    const dpr = window.devicePixelRatio || 1;
    const w = this.width;
    const h = AXIS_H + model.cpus * this.laneH;
    const pw = Math.round(w * dpr);
    const ph = Math.round(h * dpr);
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    const g = canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.fillStyle = c.bg!;
    g.fillRect(0, 0, w, h);
    const px = this.pxPerStep;
    const first = Math.max(0, Math.floor(this.scrollX / px));
    const last = Math.min(this.n, Math.ceil((this.scrollX + this.trackWidth) / px) + 1);
    const X = (i: number): number => HEADER_W + i * px - this.scrollX;
    const visible = (a: number, b: number): boolean => b > first && a < last;
    g.save();
    g.beginPath();
    g.rect(HEADER_W, 0, w - HEADER_W, h);
    g.clip();
    // Axis with step ticks.
    g.font = '10px system-ui, sans-serif';
    g.fillStyle = c.muted!;
    const tickEvery = niceStep(70 / px);
    for (let i = Math.ceil(first / tickEvery) * tickEvery; i < last; i += tickEvery) {
      g.fillRect(X(i), AXIS_H - 5, 1, 5);
      g.fillText(String(i), X(i) + 2, AXIS_H - 8);
    }
    if (px < 3) this.drawDense(g, model, first, last, X);
    else this.drawDetailed(g, model, first, last, X, visible);
    if (this.hasWeak) this.drawWeak(g, first, last, X);
    const fail = model.markers.find((m) => m.kind === 'failure');
    if (fail) {
      g.fillStyle = c.failure!;
      g.globalAlpha = 0.5;
      g.fillRect(X(fail.at + 1) - 1, AXIS_H, 2, h - AXIS_H);
      g.globalAlpha = 1;
    }
    // Cursor on the selected step.
    if (this.n > 0) {
      g.fillStyle = c.cursor!;
      g.globalAlpha = 0.18;
      g.fillRect(X(this.selected), AXIS_H, Math.max(2, px), h - AXIS_H);
      g.globalAlpha = 1;
      g.fillRect(X(this.selected), 0, 2, h);
    }
    g.restore();
    // Lane headers.
    g.fillStyle = c.bg!;
    g.fillRect(0, 0, HEADER_W, h);
    g.fillStyle = c.grid!;
    g.fillRect(HEADER_W - 1, 0, 1, h);
    g.font = '600 12px system-ui, sans-serif';
    for (let cpu = 0; cpu < model.cpus; cpu++) {
      const top = AXIS_H + cpu * this.laneH;
      g.fillStyle = c.fg!;
      g.fillText(`CPU ${cpu}`, 10, top + 26);
      const li = model.lastOf(cpu, this.selected);
      g.font = '10px system-ui, sans-serif';
      g.fillStyle = c.muted!;
      g.fillText(li >= 0 ? irqlName(this.steps[li]!.irql).replace('_LEVEL', '') : '—', 10, top + 42);
      g.font = '600 12px system-ui, sans-serif';
      g.fillStyle = c.grid!;
      g.fillRect(0, top + this.laneH - 1, HEADER_W, 1);
    }
  }

  /** Zoomed in: every slice, band, lock hold and marker, with labels where they fit. */
  private drawDetailed(g: Ctx2D, model: TimelineModel, first: number, last: number, X: (i: number) => number, visible: (a: number, b: number) => boolean): void {
    const c = this.colors;
    const px = this.pxPerStep;
    const w = this.width;
    for (let cpu = 0; cpu < model.cpus; cpu++) {
      const top = AXIS_H + cpu * this.laneH;
      for (const b of model.irql) {
        if (b.cpu !== cpu || !visible(b.from, b.to) || b.irql === 0) continue;
        g.fillStyle = (b.irql === 1 ? c.irql1 : b.irql === 2 ? c.irql2 : c.irqlHigh)!;
        g.fillRect(X(b.from), top, (b.to - b.from) * px, this.laneH - 1);
        if ((b.to - b.from) * px > 90) {
          g.fillStyle = c.muted!;
          g.fillText(irqlName(b.irql), Math.max(X(b.from), HEADER_W) + 3, top + 11);
        }
      }
      for (const s of model.slices) {
        if (s.cpu !== cpu || !visible(s.from, s.to)) continue;
        const x = X(s.from);
        const wpx = Math.max(1, (s.to - s.from) * px - (px > 4 ? 1 : 0));
        g.fillStyle = (s.kind === 'dpc' ? c.dpc : s.kind === 'isr' ? c.isr : c.thread)!;
        g.globalAlpha = 0.85;
        g.fillRect(x, top + 16, wpx, 24);
        g.globalAlpha = 1;
        if (wpx > 40) {
          g.fillStyle = '#fff';
          g.font = '11px system-ui, sans-serif';
          const label = s.routine === s.context ? s.context : `${s.context} · ${s.routine}`;
          g.fillText(fit(g, label, wpx - 6), Math.max(x, HEADER_W) + 3, top + 32);
          g.font = '10px system-ui, sans-serif';
        }
      }
      const holds = model.locks.filter((hh) => hh.cpu === cpu);
      holds.forEach((hh, j) => {
        if (!visible(hh.from, hh.to)) return;
        const y = top + 44 + (j % 3) * 8;
        g.fillStyle = c.lock!;
        g.fillRect(X(hh.from), y, Math.max(2, (hh.to - hh.from) * px), 6);
        if ((hh.to - hh.from) * px > 60) {
          g.fillStyle = c.fg!;
          g.fillText(fit(g, hh.lock, (hh.to - hh.from) * px - 4), Math.max(X(hh.from), HEADER_W) + 2, y + 14 > top + this.laneH ? y - 1 : y + 14);
        }
      });
      for (const m of model.markers) {
        if (m.cpu !== cpu || m.at < first - 1 || m.at > last) continue;
        const x = X(m.at) + px / 2;
        if (m.kind === 'arrival') {
          g.fillStyle = c.dpc!;
          g.beginPath();
          g.moveTo(x - 5, top + 3);
          g.lineTo(x + 5, top + 3);
          g.lineTo(x, top + 13);
          g.fill();
        } else if (m.kind === 'quantum') {
          g.fillStyle = c.muted!;
          g.fillRect(x - 1, top + 4, 2, 10);
        } else if (m.kind === 'irp') {
          g.fillStyle = c.irp!;
          g.beginPath();
          g.moveTo(x, top + 8);
          g.lineTo(x + 5, top + 13);
          g.lineTo(x, top + 18);
          g.lineTo(x - 5, top + 13);
          g.fill();
        } else if (m.kind === 'failure') {
          g.strokeStyle = c.failure!;
          g.lineWidth = 2;
          g.beginPath();
          g.moveTo(x - 6, top + 10);
          g.lineTo(x + 6, top + 22);
          g.moveTo(x + 6, top + 10);
          g.lineTo(x - 6, top + 22);
          g.stroke();
        }
      }
      g.fillStyle = c.grid!;
      g.fillRect(HEADER_W, top + this.laneH - 1, w, 1);
    }
  }

  /**
   * Weak memory, over either zoom: each buffered store as a bar in its CPU's store-buffer row from
   * the store to the step it became visible (a dot where it was written, a bar where it became
   * visible); each stale read as a "!" on the reader's lane, with a dashed line from the store it
   * did not see. They are few, so every one is drawn from the list.
   */
  private drawWeak(g: Ctx2D, first: number, last: number, X: (i: number) => number): void {
    const c = this.colors;
    const px = this.pxPerStep;
    const H = this.laneH;
    g.font = '10px system-ui, sans-serif';
    for (const b of this.weak.stores) {
      if (b.to + 1 <= first || b.from > last) continue;
      const y = AXIS_H + b.cpu * H + WEAK_ROW;
      const x0 = X(b.from) + px / 2;
      const x1 = X(b.to) + px / 2;
      g.fillStyle = c.bufferedBg!;
      g.fillRect(x0, y, Math.max(2, x1 - x0), 10);
      g.strokeStyle = c.buffered!;
      g.lineWidth = 1.5;
      g.strokeRect(x0, y, Math.max(2, x1 - x0), 10);
      g.fillStyle = c.buffered!;
      g.beginPath();
      g.arc(x0, y + 5, 3.5, 0, Math.PI * 2);
      g.fill();
      if (b.visible) g.fillRect(x1 - 1.5, y - 3, 3, 16);
      if (x1 - x0 > 70) {
        g.fillStyle = c.fg!;
        g.fillText(fit(g, `${b.address}${b.value === undefined ? '' : ` = ${formatValue(b.value)}`} buffered`, x1 - x0 - 12), Math.max(x0, HEADER_W) + 6, y + 8.5);
      }
    }
    for (const r of this.weak.stale) {
      const ry = AXIS_H + r.cpu * H;
      const x = X(r.at) + px / 2;
      if (r.store !== undefined && r.store <= last && r.at >= first) {
        const w = this.steps[r.store]!;
        g.strokeStyle = c.stale!;
        g.lineWidth = 1.5;
        g.setLineDash([4, 3]);
        g.beginPath();
        g.moveTo(X(r.store) + px / 2, AXIS_H + w.cpu * H + 28);
        g.lineTo(x, ry + 10);
        g.stroke();
        g.setLineDash([]);
      }
      if (r.at < first - 1 || r.at > last) continue;
      g.fillStyle = c.stale!;
      g.beginPath();
      g.arc(x, ry + 9, 7, 0, Math.PI * 2);
      g.fill();
      g.fillStyle = c.bg!;
      g.font = '700 11px system-ui, sans-serif';
      g.fillText('!', x - 2, ry + 13);
      g.font = '10px system-ui, sans-serif';
    }
  }

  /**
   * Zoomed out (several steps per pixel): one column per pixel per layer,
   * from the per-step arrays, merged into runs, so the cost is the number of
   * pixels, not the number of steps.
   */
  private drawDense(g: Ctx2D, model: TimelineModel, first: number, last: number, X: (i: number) => number): void {
    const c = this.colors;
    const px = this.pxPerStep;
    const x0 = Math.max(HEADER_W, Math.floor(X(first)));
    const x1 = Math.min(this.width, Math.ceil(X(last)));
    const kindColor = ['', c.thread!, c.dpc!, c.isr!];
    const irqlColor = (v: number): string => (v === 0 ? '' : v === 1 ? c.irql1! : v === 2 ? c.irql2! : c.irqlHigh!);
    for (let cpu = 0; cpu < model.cpus; cpu++) {
      const top = AXIS_H + cpu * this.laneH;
      const d = model.dense[cpu]!;
      // Reduce each pixel column to: highest IRQL, the "most interesting" context kind, any lock held.
      const cols = x1 - x0;
      const irq = new Uint8Array(cols);
      const kind = new Uint8Array(cols);
      const lock = new Uint8Array(cols);
      for (let x = 0; x < cols; x++) {
        const a = Math.max(0, Math.floor((this.scrollX + x0 + x - HEADER_W) / px));
        const b = Math.min(this.n, Math.max(a + 1, Math.floor((this.scrollX + x0 + x + 1 - HEADER_W) / px)));
        let mi = 0;
        let mk = 0;
        let ml = 0;
        for (let i = a; i < b; i++) {
          if (d.irql[i]! > mi) mi = d.irql[i]!;
          if (d.kind[i]! > mk) mk = d.kind[i]!;
          if (d.locks[i]! > ml) ml = d.locks[i]!;
        }
        irq[x] = mi;
        kind[x] = mk;
        lock[x] = ml ? 1 : 0;
      }
      const runs = (arr: Uint8Array, paint: (v: number, x: number, w: number) => void): void => {
        let start = 0;
        for (let x = 1; x <= cols; x++) {
          if (x === cols || arr[x] !== arr[start]) {
            paint(arr[start]!, x0 + start, x - start);
            start = x;
          }
        }
      };
      runs(irq, (v, x, w) => {
        const col = irqlColor(v);
        if (!col) return;
        g.fillStyle = col;
        g.fillRect(x, top, w, this.laneH - 1);
      });
      g.globalAlpha = 0.85;
      runs(kind, (v, x, w) => {
        if (!v) return;
        g.fillStyle = kindColor[v]!;
        g.fillRect(x, top + 16, w, 24);
      });
      g.globalAlpha = 1;
      g.fillStyle = c.lock!;
      runs(lock, (v, x, w) => {
        if (v) g.fillRect(x, top + 44, w, 6);
      });
      g.fillStyle = c.grid!;
      g.fillRect(HEADER_W, top + this.laneH - 1, this.width, 1);
    }
    const f = model.markers.find((m) => m.kind === 'failure');
    if (f && f.at >= first && f.at <= last) {
      const x = X(f.at) + px / 2;
      const top = AXIS_H + f.cpu * this.laneH;
      g.strokeStyle = c.failure!;
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(x - 6, top + 10);
      g.lineTo(x + 6, top + 22);
      g.moveTo(x + 6, top + 10);
      g.lineTo(x - 6, top + 22);
      g.stroke();
    }
  }

  override render() {
    const n = this.n;
    const model = this.model;
    const sel = this.steps[this.selected];
    const h = AXIS_H + (model?.cpus ?? 1) * this.laneH;
    const failIdx = model?.markers.find((m) => m.kind === 'failure')?.at;
    return html`<div class="toolbar" role="toolbar" aria-label="Timeline controls">
        <button type="button" @click=${() => this.select(0)} ?disabled=${this.selected === 0} >First</button>
        <button type="button" @click=${() => this.select(this.selected - 1)} ?disabled=${this.selected === 0}>◀ Previous step</button>
        <button type="button" @click=${() => this.select(this.selected + 1)} ?disabled=${this.selected >= n - 1}>Next step ▶</button>
        ${failIdx !== undefined ? html`<button type="button" @click=${() => this.select(failIdx)}>Go to failure</button>` : nothing}
        <label class="visually-hidden" for="step-slider">Step</label>
        <input id="step-slider" type="range" min="0" max=${Math.max(0, n - 1)} .value=${String(this.selected)}
          @input=${(e: Event) => this.select(Number((e.target as HTMLInputElement).value))} />
        <span class="pos" role="status" aria-live="polite" data-testid="timeline-position">Step ${n ? this.steps[this.selected]!.step + 1 : 0} of ${n ? this.steps[n - 1]!.step + 1 : 0}</span>
        <span class="sep"></span>
        <button type="button" @click=${() => this.zoom(1.5)} aria-label="Zoom in">+</button>
        <button type="button" @click=${() => this.zoom(1 / 1.5)} aria-label="Zoom out">−</button>
        <button type="button" @click=${() => { this.pxPerStep = this.fitZoom(); this.scroller.scrollLeft = 0; this.scrollX = 0; }}>Fit</button>
      </div>
      <div class="viewport" style=${`height:${h + 14}px`}>
        <div class="scroller" style=${`height:${h + 14}px;margin-left:${HEADER_W}px`} @scroll=${() => { this.scrollX = this.scroller.scrollLeft; }}>
          <div class="spacer" style=${`width:${Math.max(n * this.pxPerStep, 1)}px;height:${h}px`}></div>
        </div>
        <canvas tabindex="0" role="img" aria-label=${`Timeline of ${n} steps on ${model?.cpus ?? 0} CPUs; use the arrow keys to step, + and - to zoom`}
          @keydown=${this.onKey} @wheel=${this.onWheel} @click=${this.onClick} @mousemove=${this.onHover}></canvas>
      </div>
      <div class="legend" aria-hidden="true">
        <span><span class="sw" style="background:var(--rb-tl-thread)"></span>thread</span>
        <span><span class="sw" style="background:var(--rb-tl-dpc)"></span>DPC</span>
        <span><span class="sw" style="background:var(--rb-tl-isr)"></span>interrupt (ISR)</span>
        <span><span class="sw" style="background:var(--rb-tl-irql-apc)"></span>APC_LEVEL</span>
        <span><span class="sw" style="background:var(--rb-tl-irql-dispatch)"></span>DISPATCH_LEVEL</span>
        <span><span class="sw" style="background:var(--rb-tl-irql-dirql)"></span>DIRQL and above</span>
        <span><span class="sw" style="background:var(--rb-tl-lock)"></span>lock held</span>
        ${this.hasWeak
          ? html`<span><span class="sw buffered"></span>store in a store buffer (written → visible)</span>
              <span><span class="stale-sw">!</span> read of an older value</span>`
          : nothing}
        <span>▼ arrival · ◆ IRP call · | quantum end · ✕ failure · Ctrl+wheel zooms</span>
      </div>
      ${this.hasWeak ? this.renderWeakList() : nothing}
      ${sel && model ? this.renderInspector(sel, model) : nothing}`;
  }

  /**
   * The run's reorderings as a list (the canvas is a picture): each buffered store and stale read,
   * in words, with a link that selects its step.
   */
  private renderWeakList() {
    const items = [
      ...this.weak.stores.map((b) => ({ at: b.from, text: describeBufferedStore(this.steps, b) })),
      ...this.weak.stale.map((r) => ({ at: r.at, text: weakNote(this.steps, this.weak, r.at) ?? '' })),
    ].sort((a, b) => a.at - b.at);
    return html`<details class="weak-list" data-testid="weak-list" ?open=${items.length <= 6}>
      <summary>Weak memory in this run: ${items.length} reordering${items.length === 1 ? '' : 's'}</summary>
      <ul>${items.map((x) => html`<li><button type="button" class="link" @click=${() => { this.select(x.at); this.focusCanvas(); }}>Step ${this.steps[x.at]!.step + 1}</button>: ${x.text}</li>`)}</ul>
    </details>`;
  }

  private renderInspector(sel: TraceStep, model: TimelineModel) {
    const held = model.locksAt(this.selected);
    const note = this.hasWeak ? weakNote(this.steps, this.weak, this.selected) : undefined;
    const inFlight = this.hasWeak ? this.weak.stores.filter((b) => b.from <= this.selected && this.selected < b.to) : [];
    const what =
      sel.what === 'event' ? html`<strong>${sel.context}</strong> ${sel.op === 'expires' ? 'expires' : 'arrives'} on CPU ${sel.cpu}`
      : sel.what === 'quantum' ? html`Quantum ends on CPU ${sel.cpu}${sel.context ? html` (<span class="mono">${sel.context}</span>)` : nothing}`
      : sel.what === 'flush' ? html`CPU ${sel.cpu}'s store buffer: <strong class="mono" data-testid="step-op">${describeOp(sel)}</strong>`
      : html`CPU ${sel.cpu}: <span class="mono">${sel.context}</span> <strong class="mono" data-testid="step-op">${describeOp(sel)}</strong> in <span class="mono">${sel.routine}</span>`;
    return html`<section class="inspector" aria-labelledby="insp-h" data-testid="step-inspector">
      <h4 id="insp-h">At step ${sel.step + 1}${sel.what !== 'step' && sel.what !== 'flush' ? ' (before the step runs)' : ''}</h4>
      <p class="what">${what}${this.selected === this.n - 1 && this.failed ? html` — <strong style="color:var(--rb-warn)">the failing step</strong>` : nothing}</p>
      ${note ? html`<p class=${`weak-note ${sel.stale ? '' : 'store'}`} data-testid="weak-note">${note}</p>` : nothing}
      ${inFlight.length
        ? html`<p class="muted" style="font-size:0.85rem" data-testid="in-flight">Not yet visible to the other CPUs: ${inFlight.map((b, i) => html`${i ? '; ' : ''}CPU ${b.cpu}'s <span class="mono">${b.address}${b.value === undefined ? '' : ` = ${formatValue(b.value)}`}</span> (written at step ${this.steps[b.from]!.step + 1})`)}.</p>`
        : nothing}
      <div class="table-scroll" tabindex="0" role="region" aria-label="Each CPU at this step"><table>
        <thead><tr><th scope="col">CPU</th><th scope="col">IRQL</th><th scope="col">Context</th><th scope="col">Routine</th><th scope="col">Last operation</th>${this.hasSource ? html`<th scope="col">Source</th>` : nothing}<th scope="col">Locks held</th></tr></thead>
        <tbody>
          ${Array.from({ length: model.cpus }, (_, cpu) => {
            const li = model.lastOf(cpu, this.selected);
            const s = li >= 0 ? this.steps[li] : undefined;
            const locks = held.filter((x) => x.cpu === cpu).map((x) => x.lock);
            return html`<tr class=${sel.cpu === cpu ? 'active' : ''}>
              <th scope="row">${cpu}</th>
              <td class="mono">${s ? irqlName(s.irql) : '—'}</td>
              <td class="mono">${s ? `${s.context} (${s.kind})` : 'not started'}</td>
              <td class="mono">${s?.routine || '—'}</td>
              <td class="mono">${s ? `${describeOp(s)}${li !== this.selected ? ` @${li + 1}` : ''}` : '—'}</td>
              ${this.hasSource ? html`<td class="mono">${s?.source ? formatSite(s.source) : '—'}</td>` : nothing}
              <td class="mono">${locks.join(', ') || '—'}</td>
            </tr>`;
          })}
        </tbody>
      </table></div>
    </section>`;
  }
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(1, raw))));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fit(g: Ctx2D, text: string, width: number): string {
  if (g.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (g.measureText(text.slice(0, mid) + '…').width <= width) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? text.slice(0, lo) + '…' : '';
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-run-timeline': RunTimeline;
  }
}
