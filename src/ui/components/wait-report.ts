import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { acquisitionStep } from '../../engine/cause.ts';
import type { RunSummary } from '../../engine/outcome.ts';
import type { TraceStep } from '../../engine/trace.ts';
import type { WaitInfo } from '../../machine/machine.ts';
import { irqlName } from '../../machine/irql.ts';
import { base } from '../styles.ts';
import './cpu-table.ts';
import './reorderings-list.ts';

const TITLES: Record<string, string> = {
  deadlock: 'Deadlock: no processor can make progress',
  hang: 'Hang: the watchdog stopped the run',
  invariant: 'An invariant does not hold',
  error: 'The scenario itself is broken',
};

/** Hangs, deadlocks, invariant failures and scenario errors: who waits on what, and the state of every CPU. */
@customElement('rb-wait-report')
export class WaitReport extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      .report { border-left: 4px solid var(--rb-caution); }
      .report.invariant, .report.error { border-left-color: var(--rb-warn); }
      ul.waits { list-style: none; padding: 0; margin: 0.5rem 0 1rem; display: grid; gap: 0.4rem; }
      ul.waits li { display: grid; grid-template-columns: 4.5rem 1fr; gap: 0.75rem; padding: 0.45rem 0.65rem; background: var(--rb-surface-2); border-radius: var(--rb-radius-sm); font-size: 0.9rem; }
      .cpu { font-weight: 600; }
      .arrow { color: var(--rb-caution); font-weight: 700; }
      a.cause { color: var(--rb-accent-text, var(--rb-accent)); }
    `,
  ];

  @property({ attribute: false }) summary?: RunSummary;
  /** The run's trace, when recorded: each wait then links to the step that took what it waits for. */
  @property({ attribute: false }) trace?: TraceStep[];

  private causeLink(w: WaitInfo) {
    const c = this.trace ? acquisitionStep(this.trace, w) : undefined;
    if (!c) return nothing;
    const go = (e: Event): void => {
      e.preventDefault();
      this.dispatchEvent(new CustomEvent('go-to-step', { detail: c.index, bubbles: true, composed: true }));
    };
    return html` — <a class="cause" href=${`#step-${c.step + 1}`} data-testid="cause-link" @click=${go}>go to step ${c.step + 1}, ${c.label}</a>`;
  }

  override render() {
    const f = this.summary?.failure;
    if (!f || f.bugcheck) return nothing;
    return html`<section class=${`card report ${f.kind}`} role="region" aria-labelledby="wait-h" data-testid="failure-report">
      <h2 id="wait-h">${TITLES[f.kind] ?? f.kind}${f.invariant ? html`: “${f.invariant}”` : nothing}</h2>
      <p>${f.message}</p>
      <rb-reorderings-list .reorderings=${f.reorderings}></rb-reorderings-list>
      ${f.waits?.length
        ? html`<h4>Who waits on what</h4>
            <ul class="waits">
              ${f.waits.map(
                (w) => html`<li><span class="cpu">CPU ${w.cpu}</span><span><span class="mono">${w.context}</span> (${w.kind} at ${irqlName(w.irql)}) <span class="arrow">→</span> ${w.state}${w.owner ? html`, held by <span class="mono">${w.owner}</span>` : nothing}${this.causeLink(w)}</span></li>`,
              )}
            </ul>`
        : nothing}
      <h4>Processors when it stopped (step ${f.step + 1})</h4>
      <rb-cpu-table .cpus=${f.cpus} .faulting=${f.cpu}></rb-cpu-table>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-wait-report': WaitReport;
  }
}
