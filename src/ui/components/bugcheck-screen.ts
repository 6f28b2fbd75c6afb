import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { bugCheckCauseStep } from '../../engine/cause.ts';
import type { RunSummary } from '../../engine/outcome.ts';
import type { TraceStep } from '../../engine/trace.ts';
import { hex } from '../lib/format.ts';
import { base } from '../styles.ts';
import './bugcheck-params.ts';
import './cpu-table.ts';
import './reorderings-list.ts';

/**
 * The blue screen, Windows style: the stop code and its NT name, the four
 * parameters, then the analysis a debugger would print (which CPU and
 * routine, every CPU's IRQL, held locks and routine stack) and what the bug
 * check means.
 */
@customElement('rb-bugcheck-screen')
export class BugcheckScreen extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
        --rb-cpu-table-border: rgb(255 255 255 / 0.25);
        --rb-cpu-table-fg: var(--rb-bsod-fg, #fff);
        --rb-cpu-table-fault: rgb(255 255 255 / 0.12);
        --rb-focus: #fff;
      }
      .bsod {
        background: var(--rb-bsod-bg, #0a63c9);
        color: var(--rb-bsod-fg, #fff);
        border-radius: var(--rb-radius, 8px);
        padding: clamp(1.25rem, 3vw, 2.5rem) clamp(1.25rem, 4vw, 3.5rem);
        font-family: var(--rb-bsod-font, 'Segoe UI', var(--rb-font));
      }
      .face { font-size: clamp(2.75rem, 6vw, 4.25rem); line-height: 1; margin: 0 0 0.75rem; font-weight: 300; letter-spacing: -0.12em; font-family: 'Segoe UI Light', 'Segoe UI', 'DejaVu Sans', sans-serif; }
      .lead { font-size: clamp(1rem, 1.8vw, 1.25rem); font-weight: 300; max-width: 60ch; margin-bottom: 1.25rem; }
      .stop { display: grid; grid-template-columns: auto 1fr; gap: 0.25rem 1.25rem; font-size: 0.95rem; margin-bottom: 1.25rem; }
      .stop dt { color: rgb(255 255 255 / 0.92); } /* 0.8 opacity fell under 4.5:1 on the blue */
      .stop dd { margin: 0; }
      .name { font-size: clamp(1.1rem, 2.2vw, 1.5rem); font-weight: 600; font-family: var(--rb-mono); letter-spacing: 0.01em; word-break: break-all; }
      .params { font-family: var(--rb-mono); }
      .meaning { max-width: 80ch; }
      .analysis { background: rgb(0 0 0 / 0.18); border-radius: 6px; padding: 1rem 1.25rem; margin-top: 1.25rem; }
      .analysis h3 { font-family: var(--rb-mono); font-weight: 600; font-size: 0.95rem; margin-bottom: 0.75rem; }
      .analysis p { font-size: 0.9rem; }
      .analysis .args-h { font-size: 0.85rem; font-weight: 600; margin: 0.75rem 0 0.35rem; color: inherit; opacity: 1; text-transform: none; letter-spacing: normal; }
      rb-bugcheck-params { margin-bottom: 0.9rem; --rb-focus: #fff; }
      .actions { display: flex; gap: 0.5rem; flex-wrap: wrap; margin-top: 1.25rem; }
      button { background: transparent; color: #fff; border-color: rgb(255 255 255 / 0.7); }
      button:hover:not(:disabled) { background: rgb(255 255 255 / 0.15); }
      .kv { font-family: var(--rb-mono); font-size: 0.85rem; }
    `,
  ];

  @property({ attribute: false }) summary?: RunSummary;
  /** Whether a link can replay this failure elsewhere (not for a user's scenario, whose code a link cannot carry). */
  @property({ type: Boolean }) linkable = true;
  /** The failing run's trace, when recorded: the parameters then link to the step that caused the bug check. */
  @property({ attribute: false }) trace?: TraceStep[];

  override render() {
    const f = this.summary?.failure;
    const b = f?.bugcheck;
    if (!f || !b) return nothing;
    const params = b.params.map((p) => hex(p, 16 / 2));
    return html`<section class="bsod" role="region" aria-labelledby="bsod-name" data-testid="bugcheck">
      <p class="face" aria-hidden="true">:(</p>
      <p class="lead">The virtual machine ran into a problem and stopped. Racebox halted every processor at step ${f.step + 1} so you can see why.</p>
      <dl class="stop">
        <dt>Stop code</dt>
        <dd><span class="name" id="bsod-name">${b.name}</span> <span class="params">(${hex(b.code)})</span></dd>
        <dt>Parameters</dt>
        <dd class="params">${params.map((p, i) => html`<span title=${`Parameter ${i + 1}`}>${p}${i < 3 ? ', ' : ''}</span>`)}</dd>
        <dt>What failed</dt>
        <dd class="kv">CPU ${f.cpu} · ${f.routine}</dd>
      </dl>
      <p class="meaning"><strong>What this means.</strong> ${b.meaning}${b.subcodeMeaning ? html` Parameter 1 = ${hex(b.params[0] ?? 0)}: ${b.subcodeMeaning}.` : nothing}</p>
      <div class="analysis">
        <h3>Bugcheck analysis</h3>
        <p>${f.message}</p>
        <rb-reorderings-list on-bsod .reorderings=${f.reorderings}></rb-reorderings-list>
        <h4 class="args-h">Arguments</h4>
        <rb-bugcheck-params .code=${b.code} .params=${b.params} .cause=${this.trace ? bugCheckCauseStep(this.trace, b.code, b.params) : undefined}></rb-bugcheck-params>
        <rb-cpu-table .cpus=${f.cpus} .faulting=${f.cpu}></rb-cpu-table>
      </div>
      <div class="actions">
        ${f.schedule.startsWith('rb')
          ? html`<button type="button" @click=${() => this.dispatchEvent(new CustomEvent('show-timeline', { bubbles: true, composed: true }))}>Step through the timeline</button>`
          : nothing}
        ${f.schedule.startsWith('rb') && this.linkable
          ? html`<button type="button" @click=${() => this.dispatchEvent(new CustomEvent('copy-link', { bubbles: true, composed: true }))}>Copy link to this failure</button>`
          : nothing}
      </div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-bugcheck-screen': BugcheckScreen;
  }
}
