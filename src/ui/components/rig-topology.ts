import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Rig } from '../../machine/rig.ts';
import { STORE_BUFFER_DEPTH } from '../../machine/weak-memory.ts';
import { base } from '../styles.ts';

/**
 * A picture of the rig's topology: cores with their logical processors, which
 * HAL, and (with a UP HAL on a multi-processor rig) the CPUs that do not run;
 * the architecture, with each logical processor's store buffer (kept in order
 * on x64, drained in any order on ARM64).
 */
@customElement('rb-rig-topology')
export class RigTopology extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; }
      figure { margin: 0; }
      svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
      figcaption { font-size: 0.85rem; color: var(--rb-muted); margin-top: 0.75rem; text-align: center; }
      dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: 0.6rem; margin: 1rem 0 0; }
      dl.facts div { background: var(--rb-surface-2); border: 1px solid var(--rb-border); border-radius: var(--rb-radius-sm); padding: 0.45rem 0.65rem; }
      dl.facts dt { font-size: 0.7rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--rb-muted); }
      dl.facts dd { margin: 0.15rem 0 0; font-weight: 600; font-size: 0.9rem; }
      .board { fill: var(--rb-surface-2); stroke: var(--rb-border-strong); }
      .core { fill: var(--rb-surface); stroke: var(--rb-border-strong); }
      .lp { fill: var(--rb-accent-soft); stroke: var(--rb-accent); }
      .lp.off { fill: var(--rb-surface-2); stroke: var(--rb-border-strong); stroke-dasharray: 3 2; }
      .lp.unsafe { fill: var(--rb-caution-bg); stroke: var(--rb-caution); }
      text { font-family: var(--rb-font); fill: var(--rb-fg); }
      .lp-label { font-size: 11px; font-weight: 600; }
      .core-label { font-size: 10px; fill: var(--rb-muted); }
      .hal { font-size: 11px; font-weight: 700; letter-spacing: 0.04em; }
      .off-label { font-size: 9px; fill: var(--rb-muted); }
      .invalid { color: var(--rb-muted); font-size: 0.9rem; margin: 0; }
      .sb { fill: var(--rb-tl-buffered-bg, #fde9c8); stroke: var(--rb-tl-buffered, #b45309); stroke-width: 1; }
      .sb.arm64 { stroke-dasharray: 2 1.5; }
      .sb.off { fill: var(--rb-surface-2); stroke: var(--rb-border-strong); }
      .sb-label { font-size: 8px; fill: var(--rb-muted); }
    `,
  ];

  @property({ attribute: false }) rig?: Partial<Rig>;
  /** The rig's fields do not make a machine: drawing one (−2 cores as 1, 1000 as 64) would show a rig that is not there. */
  @property({ type: Boolean }) invalid = false;

  override render() {
    if (this.invalid) {
      return html`<p class="invalid" role="note" data-testid="topology-invalid">No picture: these fields do not make a machine yet. Fix the fields marked in red and the topology appears.</p>`;
    }
    const r = this.rig ?? {};
    const cores = Number.isInteger(r.cores) && r.cores! > 0 ? Math.min(r.cores!, 64) : 1;
    const tpc = r.threadsPerCore === 2 ? 2 : 1;
    const up = r.hal === 'up';
    const unsafe = up && r.upHalOnAllCpus === true;
    const logical = cores * tpc;
    const running = up && !unsafe ? 1 : logical;
    const perRow = Math.min(cores, 8);
    const rows = Math.ceil(cores / perRow);
    const cw = tpc === 2 ? 86 : 52;
    // Each logical processor sits on its store buffer (STORE_BUFFER_DEPTH slots).
    const ch = 78;
    const arm = r.arch === 'arm64';
    const gap = 10;
    const pad = 14;
    const top = 30;
    const w = pad * 2 + perRow * cw + (perRow - 1) * gap;
    const h = top + rows * ch + (rows - 1) * gap + pad;
    const halText = up ? (unsafe ? 'UP HAL on every CPU (unsafe)' : 'UP HAL') : 'MP HAL';
    const heading = `${arm ? 'ARM64' : 'x64'} · ${halText} · ${r.build === 'free' ? 'free build' : 'checked build'}`;
    // Wide enough for the heading (about 7 px per character of 11 px bold text), so it is never clipped.
    const W = Math.max(w, 300, Math.ceil(heading.length * 7) + pad * 2);
    const off = (W - w) / 2;
    const cells = [];
    for (let c = 0; c < cores; c++) {
      const x = off + pad + (c % perRow) * (cw + gap);
      const y = top + Math.floor(c / perRow) * (ch + gap);
      cells.push(svg`<rect class="core" x=${x} y=${y} width=${cw} height=${ch} rx="6"></rect>
        <text class="core-label" x=${x + cw / 2} y=${y + 13} text-anchor="middle">core ${c}</text>`);
      for (let t = 0; t < tpc; t++) {
        const lp = c * tpc + t;
        const on = lp < running;
        const lx = x + 6 + t * 40;
        const cls = !on ? 'lp off' : unsafe ? 'lp unsafe' : 'lp';
        cells.push(svg`<rect class=${cls} x=${lx} y=${y + 20} width="34" height="34" rx="4"><title>CPU ${lp}${on ? '' : ' (not started by the UP HAL)'}</title></rect>
          <text class="lp-label" x=${lx + 17} y=${y + 38} text-anchor="middle">${lp}</text>
          ${on ? '' : svg`<text class="off-label" x=${lx + 17} y=${y + 50} text-anchor="middle">off</text>`}`);
        const slot = 34 / STORE_BUFFER_DEPTH;
        for (let k = 0; k < STORE_BUFFER_DEPTH; k++) {
          cells.push(svg`<rect class=${`sb ${arm ? 'arm64' : 'x64'}${on ? '' : ' off'}`} x=${lx + k * slot} y=${y + 58} width=${slot} height="8"></rect>`);
        }
        cells.push(svg`<text class="sb-label" x=${lx + 17} y=${y + 74} text-anchor="middle">${arm ? 'any order' : 'FIFO'}</text>`);
      }
    }
    const caption = up
      ? unsafe
        ? `${logical} logical CPUs all running a uniprocessor HAL: spin locks only raise IRQL, so they do not exclude the other CPUs.`
        : logical > 1
          ? `UP HAL: Windows starts only CPU 0; the other ${logical - 1} logical CPU${logical > 2 ? 's do' : ' does'} not run.`
          : 'One CPU, uniprocessor HAL: spin locks only raise IRQL, which is correct on one CPU.'
      : `${cores} core${cores > 1 ? 's' : ''}${tpc === 2 ? ' with Hyper-Threading' : ''}: ${logical} logical CPU${logical > 1 ? 's' : ''}, multiprocessor HAL (spin locks are atomic test-and-set).`;
    const model = arm
      ? `ARM64 (ARMv8): each CPU's stores may become visible to the others in any order, and loads may see older values, unless acquire/release, a barrier or an address dependency orders them.`
      : `x64 (x86-TSO): each CPU's stores wait in a first-in first-out store buffer of ${STORE_BUFFER_DEPTH}, so a later load can pass an earlier store.`;
    return html`<figure role="img" aria-label=${`Topology: ${caption} ${model}`}>
      <svg viewBox="0 0 ${W} ${h}" style=${`width: min(100%, ${Math.round(W * 1.7)}px)`} aria-hidden="true">
        <rect class="board" x="2" y="2" width=${W - 4} height=${h - 4} rx="10"></rect>
        <text class="hal" x=${pad} y="20">${heading}</text>
        ${cells}
      </svg>
      <figcaption>${caption}<br /><span data-testid="topology-arch">${model}</span></figcaption>
    </figure>
    <dl class="facts">
        <div><dt>Architecture</dt><dd data-testid="arch-fact">${arm ? 'ARM64 · ARMv8 (weak)' : 'x64 · x86-TSO'}</dd></div>
        <div><dt>Logical CPUs</dt><dd>${logical}</dd></div>
        <div><dt>Running</dt><dd>${running}</dd></div>
        <div><dt>Spin lock</dt><dd>${up && !unsafe ? 'raise IRQL' : up ? 'raise IRQL only (unsafe)' : 'test-and-set'}</dd></div>
        <div><dt>Misuse</dt><dd>${r.build === 'free' ? 'plays out (hang, corruption)' : 'bug-checks at once'}</dd></div>
        <div><dt>Quantum</dt><dd>${r.quantum ?? 30} steps</dd></div>
        <div><dt>Watchdog</dt><dd>${(r.watchdog?.maxSteps ?? 20000).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')} steps</dd></div>
    </dl>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rb-rig-topology': RigTopology;
  }
}
