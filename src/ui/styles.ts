/** Shared styles. Every colour, radius and font comes from a CSS custom property (the theming surface, set in index.html). */
import { css } from 'lit';

export const base = css`
  :host {
    font-family: var(--rb-font);
    color: var(--rb-fg);
    box-sizing: border-box;
  }
  *, *::before, *::after { box-sizing: inherit; }
  h2, h3, h4 { margin: 0 0 0.5rem; font-weight: 600; line-height: 1.25; }
  h2 { font-size: 1.15rem; }
  h3 { font-size: 1rem; }
  h4 { font-size: 0.9rem; color: var(--rb-muted); text-transform: uppercase; letter-spacing: 0.04em; }
  p { margin: 0 0 0.5rem; line-height: 1.45; }
  code, pre, .mono { font-family: var(--rb-mono); font-size: 0.85em; }
  .card {
    background: var(--rb-surface);
    border: 1px solid var(--rb-border);
    border-radius: var(--rb-radius, 8px);
    padding: var(--rb-card-padding, 1rem);
    box-shadow: var(--rb-shadow, 0 1px 2px rgb(0 0 0 / 0.05));
  }
  button, .button {
    font: inherit;
    font-size: 0.9rem;
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    padding: 0.4rem 0.85rem;
    border-radius: var(--rb-radius-sm, 6px);
    border: 1px solid var(--rb-border-strong, var(--rb-border));
    background: var(--rb-surface);
    color: var(--rb-fg);
    cursor: pointer;
    text-decoration: none;
    white-space: nowrap;
  }
  button:hover:not(:disabled) { background: var(--rb-hover); }
  button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, a:focus-visible, [tabindex]:focus-visible {
    outline: 2px solid var(--rb-focus, var(--rb-accent));
    outline-offset: 2px;
  }
  button.primary { background: var(--rb-accent); border-color: var(--rb-accent); color: var(--rb-on-accent, #fff); font-weight: 600; }
  button.primary:hover:not(:disabled) { background: var(--rb-accent-strong, var(--rb-accent)); }
  button.danger { color: var(--rb-warn); }
  button.ghost { border-color: transparent; background: transparent; }
  button:disabled { opacity: 0.5; cursor: not-allowed; }
  label { font-size: 0.85rem; font-weight: 500; }
  input, select, textarea {
    font: inherit;
    font-size: 0.9rem;
    padding: 0.35rem 0.5rem;
    border: 1px solid var(--rb-border-strong, var(--rb-border));
    border-radius: var(--rb-radius-sm, 6px);
    background: var(--rb-input-bg, var(--rb-surface));
    color: var(--rb-fg);
    min-width: 0;
  }
  input[aria-invalid='true'], select[aria-invalid='true'] { border-color: var(--rb-warn); }
  input[type='checkbox'], input[type='radio'] { accent-color: var(--rb-accent); width: 1rem; height: 1rem; }
  .field { display: flex; flex-direction: column; gap: 0.25rem; }
  .field .hint, p.hint { font-size: 0.78rem; color: var(--rb-muted); }
  .field .field-error { font-size: 0.78rem; color: var(--rb-warn); }
  .field input[aria-invalid='true'] { border-color: var(--rb-warn); }
  .field .error { font-size: 0.78rem; color: var(--rb-warn); font-weight: 500; }
  .row { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
  .muted { color: var(--rb-muted); }
  .pill {
    display: inline-block;
    padding: 0.05rem 0.5rem;
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 600;
    border: 1px solid currentColor;
    white-space: nowrap;
  }
  .pill.pass, .pill.correct { color: var(--rb-ok); }
  /* A wide table scrolls inside its own box, never the page (390 px wide screens). */
  .table-scroll { overflow-x: auto; max-width: 100%; }
  .pill.bugcheck, .pill.buggy, .pill.invariant, .pill.error { color: var(--rb-warn); }
  .pill.deadlock, .pill.hang { color: var(--rb-caution); }
  .pill.stopped { color: var(--rb-muted); }
  .visually-hidden {
    position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
    clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
  }
  table { border-collapse: collapse; width: 100%; font-size: 0.875rem; }
  .table-wrap, :host { max-width: 100%; }
  th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--rb-border); vertical-align: top; }
  th { font-weight: 600; color: var(--rb-muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.03em; }
  .banner {
    padding: 0.6rem 0.9rem;
    border-radius: var(--rb-radius-sm, 6px);
    border: 1px solid var(--rb-border);
    background: var(--rb-surface-2);
    font-size: 0.875rem;
  }
  .banner.warn { border-color: var(--rb-caution); background: var(--rb-caution-bg); }
  .banner.error { border-color: var(--rb-warn); background: var(--rb-warn-bg); }
`;
