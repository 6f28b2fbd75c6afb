import { provide } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import type { UserScenario, StoredRun } from '../history/types.ts';
import { PRESET_RIGS, presetRig } from '../machine/presets.ts';
import { rigDifferences, rigFingerprint, validateRig, type Rig } from '../machine/rig.ts';
import { catalogContext, historyContext, runnerContext } from './context.ts';
import { checkRigDoc, rigToDoc, type RigChange, type RigDoc } from './components/rig-editor.ts';
import type { RunSettings, RunView } from './components/run-view.ts';
import { PoolController } from './controllers/pool-controller.ts';
import type { ScenarioChoice } from './lib/choice.ts';
import { loadCatalog, type Catalog } from './lib/catalog.ts';
import { linkProblems, parseLink, type LinkParams } from './lib/url.ts';
import { clip, quote } from '../machine/text.ts';
import { openHistoryService, type HistoryService } from './services/history-service.ts';
import type { Runner } from './services/runner.ts';
import { base } from './styles.ts';
import type { ConfirmRun } from './components/confirm-run.ts';
import './components/confirm-run.ts';
import './components/history-view.ts';
import './components/rig-editor.ts';
import './components/run-view.ts';
import './components/scenario-browser.ts';
import './components/welcome-card.ts';

type Tab = 'box' | 'scenarios' | 'editor' | 'run' | 'history';
const TABS: { id: Tab; label: string }[] = [
  { id: 'box', label: 'The box' },
  { id: 'scenarios', label: 'Scenarios' },
  { id: 'editor', label: 'Editor' },
  { id: 'run', label: 'Run' },
  { id: 'history', label: 'History' },
];

export interface EditorRunRequest {
  id: string;
  title: string;
  version: number;
  actors: number;
  source: string;
}

/**
 * Root of the Racebox UI: provides the worker pool and the history to every
 * view (@lit/context), keeps the chosen rig, scenario and run settings, and
 * opens links (?rig=&scenario=&seed=&strategy=[&engine=][&schedule=][&run=1]).
 */
@customElement('racebox-app')
export class RaceboxApp extends LitElement {
  static override styles = [
    base,
    css`
      /* Hidden until focused: the first Tab stop, so keyboard users can jump past the header. */
      .skip { position: absolute; left: 0.5rem; top: -3rem; z-index: 10; padding: 0.5rem 0.75rem; background: var(--rb-surface); color: var(--rb-fg); border: 2px solid var(--rb-accent); border-radius: var(--rb-radius-sm, 6px); }
      .skip:focus { top: 0.5rem; }
      main:focus { outline: none; }
      :host { display: flex; flex-direction: column; min-height: 100vh; background: var(--rb-bg); }
      header {
        position: sticky; top: 0; z-index: 10;
        display: flex; align-items: center; gap: 1.25rem; flex-wrap: wrap;
        padding: 0 1.25rem; min-height: 3.5rem;
        background: var(--rb-header-bg); color: var(--rb-header-fg);
        box-shadow: 0 1px 0 var(--rb-border), 0 2px 8px rgb(0 0 0 / 0.06);
      }
      .brand { display: flex; align-items: center; gap: 0.6rem; margin-right: 0.5rem; }
      .logo { width: 1.7rem; height: 1.7rem; border-radius: 6px; background: var(--rb-accent); display: grid; place-items: center; color: #fff; font-weight: 800; font-size: 0.95rem; }
      h1 { margin: 0; font-size: 1.15rem; font-weight: 700; letter-spacing: -0.01em; }
      .tagline { font-size: 0.78rem; color: var(--rb-header-muted); }
      [role='tablist'] { display: flex; gap: 0.15rem; align-self: stretch; flex-wrap: wrap; }
      [role='tab'] {
        border: 0; border-radius: 0; background: transparent; color: var(--rb-header-muted);
        padding: 0 0.85rem; min-height: 3.5rem; border-bottom: 3px solid transparent; font-weight: 500;
      }
      [role='tab']:hover:not(:disabled) { background: var(--rb-hover); color: var(--rb-header-fg); }
      [role='tab'][aria-selected='true'] { color: var(--rb-accent-text); border-bottom-color: var(--rb-accent); }
      .current { margin-left: auto; display: flex; gap: 0.5rem; flex-wrap: wrap; font-size: 0.8rem; }
      .chip { padding: 0.15rem 0.55rem; border-radius: 999px; background: var(--rb-surface-2); border: 1px solid var(--rb-border); font-family: var(--rb-mono); }
      .chip.bad { border-color: var(--rb-warn); color: var(--rb-warn); }
      .isolation { font-size: 0.78rem; color: var(--rb-header-muted); }
      .isolation .yes { color: var(--rb-ok); font-weight: 600; }
      .isolation .no { color: var(--rb-warn); font-weight: 600; }
      main { flex: 1; width: 100%; max-width: 1400px; margin: 0 auto; padding: 1.25rem; display: grid; gap: 1rem; align-content: start; }
      [role='tabpanel'] { min-width: 0; }
      [role='tabpanel'][hidden] { display: none; }
      @media (max-width: 700px) {
        header { padding: 0 0.75rem; gap: 0.5rem; }
        .tagline, .current { display: none; }
        [role='tab'] { padding: 0 0.55rem; min-height: 2.75rem; }
        main { padding: 0.75rem; }
      }
    `,
  ];

  @provide({ context: runnerContext }) @state() runner?: Runner;
  @provide({ context: historyContext }) @state() history?: HistoryService;
  @provide({ context: catalogContext }) @state() catalog?: Catalog;

  @state() private tab: Tab = 'box';
  @state() private rigDoc: RigDoc = rigToDoc(presetRig('dual-opteron-240') ?? PRESET_RIGS[0]!);
  @state() private rigSource = `preset:${presetRig('dual-opteron-240') ? 'dual-opteron-240' : PRESET_RIGS[0]!.id}`;
  @state() private rigCheck: RigChange = checkRigDoc(this.rigDoc);
  @state() private userRigs: Rig[] = [];
  @state() private userScenarios: UserScenario[] = [];
  @state() private scenario?: ScenarioChoice;
  @state() private browsing = '';
  @state() private settings?: RunSettings;
  @state() private historyRevision = 0;
  @state() private problems: { kind: 'error' | 'warn'; text: string }[] = [];
  @state() private editorLoaded = false;
  @state() private editorSeed?: { id: string; source: string; fork: boolean };
  @state() private isolated = globalThis.crossOriginIsolated === true;
  @query('rb-run-view') private runView!: RunView;
  @query('rb-confirm-run') private confirmRun!: ConfirmRun;

  readonly pool = new PoolController(this, (r) => {
    this.runner = r;
  });
  private link: LinkParams = parseLink(location.search);
  /** The query of the link opened last (popstate with the same query is not a new link). */
  private openedSearch = location.search;
  /**
   * Tabs the user chose (click or arrow keys), counted, and the count when the current link was opened.
   * A link is applied after the first paint and the library load; a tab chosen in between is the user's
   * later word and is kept (the link's rig, scenario and run still apply behind it).
   */
  private tabChoices = 0;
  private tabChoicesAtLink = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('popstate', this.onPopState);
    void this.boot();
  }

  override disconnectedCallback(): void {
    removeEventListener('popstate', this.onPopState);
    super.disconnectedCallback();
  }

  /**
   * A link pushed into this page's history (history.pushState, then popstate) opens as a fresh load
   * would, confirmation included, without restarting the app and its workers: the regression
   * matrix (e2e/regress) opens row after row this way. Only a change of the query is a new link
   * (a fragment change also fires popstate); the banners of the link before go with it.
   */
  private readonly onPopState = (): void => {
    if (location.search === this.openedSearch || !this.catalog) return;
    this.link = parseLink(location.search);
    this.problems = [];
    this.tabChoicesAtLink = this.tabChoices;
    void this.openLink(this.link);
  };

  private problem(kind: 'error' | 'warn', text: string): void {
    this.problems = [...this.problems.filter((p) => p.text !== text), { kind, text }];
  }

  private async boot(): Promise<void> {
    // Paint the shell first; the library, the history and the workers load right after.
    await afterFirstPaint();
    const historyReady = openHistoryService((msg) => this.problem('error', msg)).then(
      (h) => {
        this.history = h;
        return h;
      },
      (e: unknown) => {
        this.problem('error', `Run history unavailable: ${(e as Error)?.message ?? e}. Runs work but will not be kept.`);
        return undefined;
      },
    );
    const [catalog, h] = await Promise.all([loadCatalog(), historyReady]);
    this.catalog = catalog;
    if (h) await this.refreshUserData();
    const first = catalog.byId.get('cancel/no-exchange-check') ?? catalog.byId.get('spinlock/abba') ?? catalog.entries[0];
    if (first) this.chooseLibrary(first.id, false);
    await this.openLink(this.link);
  }

  private async refreshUserData(): Promise<void> {
    if (!this.history) return;
    try {
      const [rigs, scenarios] = await Promise.all([this.history.listRigs(), this.history.listScenarios()]);
      this.userRigs = rigs;
      this.userScenarios = scenarios;
    } catch (e) {
      this.problem('error', `Could not read your rigs and scenarios: ${(e as Error).message}`);
    }
  }

  private async openLink(p: LinkParams): Promise<void> {
    this.openedSearch = location.search;
    if (!p.rig && !p.scenario && !p.schedule && p.problems.length === 0) return;
    const found = { rig: true, scenario: true };
    if (p.rigDoc !== undefined) {
      // The link carries its rig's fields (a rig that is not a preset): it is checked like a rig file.
      const v = validateRig(p.rigDoc);
      const known = v.ok ? presetRig(v.rig.id) ?? this.userRigs.find((r) => r.id === v.rig.id) : undefined;
      if (!v.ok) p.problems.push(`The link's rig is invalid: ${v.errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`);
      else if (p.rig !== undefined && p.rig !== v.rig.id) p.problems.push(`The link names rig ${quote(p.rig)} but carries rig ${quote(v.rig.id)}.`);
      else if (known && rigFingerprint(known) !== rigFingerprint(v.rig)) {
        p.problems.push(`The link's rig ${quote(v.rig.id)} differs from your rig of that id (${rigDifferences(known, v.rig).join(', ')}): rename one of them to replay it.`);
      } else this.setRig(rigToDoc(v.rig), known ? (presetRig(v.rig.id) ? `preset:${v.rig.id}` : `user:${v.rig.id}`) : `link:${v.rig.id}`);
    } else if (p.rig) {
      const rig = presetRig(p.rig) ?? this.userRigs.find((r) => r.id === p.rig);
      if (rig) this.setRig(rigToDoc(rig), presetRig(p.rig) ? `preset:${rig.id}` : `user:${rig.id}`);
      else found.rig = false;
    }
    if (p.scenario) {
      if (this.catalog?.byId.has(p.scenario)) this.chooseLibrary(p.scenario, false);
      else {
        const u = this.userScenarios.find((s) => s.id === p.scenario);
        if (u) this.chooseUser(u);
        else found.scenario = false;
      }
    }
    const problems = linkProblems(p, found);
    for (const text of problems) this.problem('error', text);
    const st = this.currentSettings();
    this.settings = {
      ...st,
      ...(p.engine ? { engine: p.engine } : {}),
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(p.strategy ? { strategy: p.strategy } : {}),
      ...(p.depth ? { depth: p.depth } : {}),
      ...(p.schedules ? { schedules: p.schedules } : {}),
    };
    if (this.tabChoices === this.tabChoicesAtLink) this.tab = 'run';
    // A link that names what is not here, or asks for what is out of range, runs nothing (not the default scenario).
    if (problems.length > 0) return;
    await this.whenRunnable();
    if (!this.rigCheck.rig || !this.scenario) return;
    if ((p.schedule || p.run) && this.scenario.kind === 'user' && !(await this.confirmUserRun(this.scenario.id, 'A link'))) {
      this.problem('warn', `The link asked to run your scenario '${this.scenario.id}'; it was not run.`);
      return;
    }
    if (p.schedule) await this.runView.replay(p.schedule, { heading: 'Replay of a shared link' });
    else if (p.run) await this.runView.start();
  }

  /** Asks the user before running a user scenario's code they did not start themselves; names where it came from. */
  private async confirmUserRun(id: string, via: string): Promise<boolean> {
    const u = this.userScenarios.find((s) => s.id === id);
    const when = (t: number): string => new Date(t).toLocaleString();
    const origin = u?.origin?.kind === 'imported'
      ? `imported from ${u.origin.file} on ${when(u.origin.importedAt)}`
      : u ? `saved in this browser's editor (last changed ${when(u.updatedAt)})` : 'unknown';
    await this.updateComplete;
    const ok = await this.confirmRun.ask({ id, title: u?.title ?? id, origin, via });
    if (ok && u) this.allowed.add(allowKey(u));
    return ok;
  }

  /** Imported scenarios the user agreed to run in this page, by allowKey: asked once, not before every run. */
  private readonly allowed = new Set<string>();

  /**
   * The run view asks this before any run or replay: code imported from a file runs only once the user said
   * so, however the run was started (a link, Start, Replay). The user's own scenarios run without asking.
   */
  private readonly mayRun = async (scenario: ScenarioChoice, via: string): Promise<boolean> => {
    if (scenario.kind !== 'user') return true;
    const u = this.userScenarios.find((s) => s.id === scenario.id);
    if (u?.origin?.kind !== 'imported' || this.allowed.has(allowKey(u))) return true;
    const ok = await this.confirmUserRun(u.id, via);
    if (!ok) this.problem('warn', `${via} asked to run the imported scenario '${clip(u.id)}'; it was not run.`);
    return ok;
  };

  /** Waits until the worker pool is up and the run view has rendered with it. */
  private async whenRunnable(): Promise<void> {
    for (let i = 0; i < 200 && !this.runner; i++) await new Promise((r) => setTimeout(r, 25));
    await this.updateComplete;
    await this.runView?.updateComplete;
  }

  private currentSettings(): RunSettings {
    return this.settings ?? this.runView?.settings ?? { engine: 'controlled', strategy: 'portfolio', depth: 3, preemptionBound: 2, seed: 1, schedules: 2000, workers: Math.max(1, Math.min(16, (navigator.hardwareConcurrency || 2) - 1)) };
  }

  private setRig(doc: RigDoc, source: string): void {
    this.rigDoc = doc;
    this.rigSource = source;
    this.rigCheck = checkRigDoc(doc);
  }

  /** The shortest path to a first blue screen: a seed race on a preselected two-CPU checked rig, started at once. */
  private async firstBlueScreen(): Promise<void> {
    const rig = presetRig('dual-opteron-240');
    if (!rig || !this.catalog?.byId.has('cancel/no-exchange-check')) return;
    this.setRig(rigToDoc(rig), `preset:${rig.id}`);
    this.chooseLibrary('cancel/no-exchange-check');
    this.settings = { ...this.currentSettings(), engine: 'controlled', strategy: 'portfolio', seed: 1 };
    await this.whenRunnable();
    await this.runView?.start();
  }

  private chooseLibrary(id: string, go = true): void {
    const e = this.catalog?.byId.get(id);
    if (!e) return;
    this.scenario = { kind: 'library', id: e.id, title: e.title, version: e.version, actors: e.actors };
    this.browsing = id;
    if (go) this.tab = 'run';
  }

  private chooseUser(u: UserScenario, meta?: { version: number; actors: number }): void {
    this.scenario = { kind: 'user', id: u.id, title: u.title, version: meta?.version ?? 1, actors: meta?.actors ?? 2, source: u.source };
  }

  private async onSaveRig(e: CustomEvent<Rig>): Promise<void> {
    const rig = e.detail;
    if (presetRig(rig.id)) {
      this.problem('warn', `'${rig.id}' is a preset's id: give your rig its own id before saving it.`);
      return;
    }
    try {
      await this.history?.saveRig(rig);
      await this.refreshUserData();
      this.setRig(rigToDoc(rig), `user:${rig.id}`);
    } catch (err) {
      this.problem('error', `Could not save the rig: ${(err as Error).message}`);
    }
  }

  private async onDeleteRig(e: CustomEvent<string>): Promise<void> {
    try {
      await this.history?.deleteRig(e.detail);
      await this.refreshUserData();
      const p = PRESET_RIGS[0]!;
      this.setRig(rigToDoc(p), `preset:${p.id}`);
    } catch (err) {
      this.problem('error', `Could not delete the rig: ${(err as Error).message}`);
    }
  }

  private async replayStored(run: StoredRun): Promise<void> {
    const schedule = run.failure?.schedule;
    if (!schedule) return;
    const preset = presetRig(run.rig.id);
    const same = preset && JSON.stringify(preset) === JSON.stringify(run.rig);
    this.setRig(rigToDoc(run.rig), same ? `preset:${run.rig.id}` : this.userRigs.some((r) => r.id === run.rig.id) ? `user:${run.rig.id}` : '');
    if (this.catalog?.byId.has(run.scenario.id)) this.chooseLibrary(run.scenario.id, false);
    else {
      const u = this.userScenarios.find((s) => s.id === run.scenario.id);
      if (!u) {
        this.problem('error', `Run #${run.id} used scenario ${quote(run.scenario.id)}, which is no longer available.`);
        return;
      }
      this.chooseUser(u, { version: run.scenario.version, actors: 2 });
    }
    this.tab = 'run';
    await this.whenRunnable();
    await this.runView.replay(schedule, { heading: `Replay of run #${run.id}` });
  }

  private async openEditor(seed?: { id: string; source: string; fork: boolean }): Promise<void> {
    if (seed) this.editorSeed = seed;
    this.tab = 'editor';
    if (!this.editorLoaded) {
      await import('./editor/scenario-editor.ts');
      this.editorLoaded = true;
    }
  }

  private async runFromEditor(e: CustomEvent<EditorRunRequest>): Promise<void> {
    const d = e.detail;
    this.scenario = { kind: 'user', id: d.id, title: d.title, version: d.version, actors: d.actors, source: d.source };
    await this.refreshUserData();
    this.tab = 'run';
    await this.whenRunnable();
    await this.runView.start();
  }

  private selectTab(t: Tab): void {
    this.tabChoices++;
    if (t === 'editor') void this.openEditor();
    else this.tab = t;
  }

  private onTabKey(e: KeyboardEvent): void {
    const i = TABS.findIndex((t) => t.id === this.tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length : -1;
    if (next < 0) return;
    e.preventDefault();
    this.selectTab(TABS[next]!.id);
    void this.updateComplete.then(() => (this.renderRoot.querySelector(`#tab-${TABS[next]!.id}`) as HTMLElement | null)?.focus());
  }

  override render() {
    const rig = this.rigCheck.rig;
    const rigIds = [...new Set([...PRESET_RIGS.map((r) => r.id), ...this.userRigs.map((r) => r.id)])];
    const scenarioIds = [...(this.catalog?.entries.map((e) => e.id) ?? []), ...this.userScenarios.map((s) => s.id)];
    return html`
      <a class="skip" href="#main" @click=${(e: Event) => { e.preventDefault(); this.renderRoot.querySelector<HTMLElement>('main')?.focus(); }}>Skip to the view</a>
      <header>
        <div class="brand">
          <div class="logo" aria-hidden="true">R</div>
          <div><h1>Racebox</h1><div class="tagline">race-testing box for Windows drivers</div></div>
        </div>
        <div role="tablist" aria-label="Views" @keydown=${this.onTabKey}>
          ${TABS.map(
            (t) => html`<button role="tab" id=${`tab-${t.id}`} aria-controls=${`panel-${t.id}`} aria-selected=${this.tab === t.id ? 'true' : 'false'}
              tabindex=${this.tab === t.id ? 0 : -1} @click=${() => this.selectTab(t.id)}>${t.label}</button>`,
          )}
        </div>
        <div class="current" aria-label="Current selection">
          <span class=${`chip ${rig ? '' : 'bad'}`} title="Rig">${String(this.rigDoc.id ?? '?')}${rig ? '' : ' (invalid)'}</span>
          <span class="chip" title="Scenario">${this.scenario?.id ?? '…'}</span>
          <span class="isolation" data-testid="isolation">isolated: ${this.isolated ? html`<span class="yes">yes</span>` : html`<span class="no">no</span>`}</span>
        </div>
      </header>
      <rb-confirm-run></rb-confirm-run>
      <main id="main" tabindex="-1">
        ${this.isolated
          ? nothing
          : html`<div class="banner warn" role="note" data-testid="isolation-banner">
              <strong>This page is not cross-origin isolated</strong>, so the browser withholds SharedArrayBuffer. The controlled engine
              (deterministic exploration, replay, timelines, history) works fully on one worker per run and Cancel stops it at once;
              the free-run engine, which needs memory shared between workers, is unavailable. Serve Racebox with
              <code>Cross-Origin-Opener-Policy: same-origin</code> and <code>Cross-Origin-Embedder-Policy: require-corp</code>
              (as <code>npm run preview</code> does) to enable it.
            </div>`}
        ${this.problems.map(
          (p) => html`<div class=${`banner ${p.kind}`} role="alert">${p.text}
            <button type="button" class="ghost" aria-label="Dismiss" @click=${() => { this.problems = this.problems.filter((x) => x !== p); }}>✕</button></div>`,
        )}
        <section role="tabpanel" id="panel-box" aria-labelledby="tab-box" ?hidden=${this.tab !== 'box'}>
          ${this.link.rig || this.link.scenario || this.link.schedule
            ? nothing
            : html`<rb-welcome-card @first-blue-screen=${() => void this.firstBlueScreen()} @browse-scenarios=${() => this.selectTab('scenarios')}></rb-welcome-card>`}
          <rb-rig-editor .doc=${this.rigDoc} .source=${this.rigSource} .userRigs=${this.userRigs}
            @rig-change=${(e: CustomEvent<RigChange & { source: string }>) => { this.rigDoc = e.detail.doc; this.rigSource = e.detail.source; this.rigCheck = e.detail; }}
            @save-rig=${this.onSaveRig} @delete-rig=${this.onDeleteRig}></rb-rig-editor>
        </section>
        <section role="tabpanel" id="panel-scenarios" aria-labelledby="tab-scenarios" ?hidden=${this.tab !== 'scenarios'}>
          <rb-scenario-browser .catalog=${this.catalog} .selected=${this.browsing} .userScenarios=${this.userScenarios}
            @select-scenario=${(e: CustomEvent<string>) => { this.browsing = e.detail; }}
            @use-scenario=${(e: CustomEvent<string>) => this.chooseLibrary(e.detail)}
            @fork-scenario=${(e: CustomEvent<{ id: string; source: string }>) => void this.openEditor({ ...e.detail, fork: true })}
            @open-user-scenario=${(e: CustomEvent<string>) => { const u = this.userScenarios.find((s) => s.id === e.detail); if (u) void this.openEditor({ id: u.id, source: u.source, fork: false }); }}></rb-scenario-browser>
        </section>
        <section role="tabpanel" id="panel-editor" aria-labelledby="tab-editor" ?hidden=${this.tab !== 'editor'}>
          ${this.editorLoaded
            ? html`<rb-scenario-editor .seed=${this.editorSeed} .userScenarios=${this.userScenarios}
                @user-scenarios-changed=${() => this.refreshUserData()} @run-user-scenario=${this.runFromEditor}></rb-scenario-editor>`
            : html`<p class="muted" role="status">Loading the editor…</p>`}
        </section>
        <section role="tabpanel" id="panel-run" aria-labelledby="tab-run" ?hidden=${this.tab !== 'run'}>
          <rb-run-view .rig=${rig} .rigErrors=${this.rigCheck.errors.map((x) => `${x.field} ${x.message}`)} .scenario=${this.scenario}
            .mayRun=${this.mayRun}
            .settings=${this.currentSettings()}
            @settings-change=${(e: CustomEvent<RunSettings>) => { this.settings = e.detail; }}
            @run-saved=${() => { this.historyRevision++; }}></rb-run-view>
        </section>
        <section role="tabpanel" id="panel-history" aria-labelledby="tab-history" ?hidden=${this.tab !== 'history'}>
          <rb-history-view .revision=${this.historyRevision} .scenarioIds=${scenarioIds} .rigIds=${rigIds}
            @replay-run=${(e: CustomEvent<StoredRun>) => this.replayStored(e.detail)}
            @history-imported=${() => this.refreshUserData()}></rb-history-view>
        </section>
      </main>
    `;
  }
}

/** One imported scenario as imported at one time: importing it again asks again. */
function allowKey(u: UserScenario): string {
  return `${u.id}\n${u.origin?.kind === 'imported' ? u.origin.importedAt : ''}`;
}

/** Resolves after the next frame has been painted. */
export function afterFirstPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

declare global {
  interface HTMLElementTagNameMap {
    'racebox-app': RaceboxApp;
  }
}
