/**
 * The lab page (lab.html): free-run of a library scenario in the browser, or a
 * controlled exploration on a worker pool. Query parameters fill the form
 * (?scenario=&rig=&engine=free|controlled&seconds=&workers=&strategy=&schedules=&seed=) and
 * `autorun=1` starts at once — what the Playwright tests use.
 */
import { PRESET_RIGS, presetRig } from '../machine/presets.ts';
import { poolCancelFlag } from '../engine/pool.ts';
import type { ExploreStrategy } from '../engine/explore.ts';
import { explorePoolInBrowser, freeRunAvailability, runFreeInBrowser } from '../workers/browser.ts';
import { openSandbox } from '../workers/sandbox-host.ts';

// e2e/sandbox.spec.ts drives the scenario sandbox (docs/sandbox.md) from this page.
(window as unknown as { raceboxSandbox: { openSandbox: typeof openSandbox; presetRig: typeof presetRig } }).raceboxSandbox = { openSandbox, presetRig };

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;
const form = $<HTMLFormElement>('#form');
const rigSelect = form.elements.namedItem('rig') as HTMLSelectElement;
for (const r of PRESET_RIGS) rigSelect.add(new Option(`${r.id} — ${r.title}`, r.id));
const params = new URLSearchParams(location.search);
for (const name of ['scenario', 'rig', 'engine', 'seconds', 'workers']) {
  const v = params.get(name);
  const el = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  if (v !== null && el) el.value = v;
}
if (!params.get('rig')) rigSelect.value = 'dual-opteron-240';

const avail = freeRunAvailability();
$('[data-testid=availability]').textContent = avail.ok ? 'Free-run available (cross-origin isolated, SharedArrayBuffer present).' : `Free-run unavailable: ${avail.reason}`;

let cancel: (() => void) | null = null;
$('#cancel').addEventListener('click', () => cancel?.());

async function run(): Promise<void> {
  const data = new FormData(form);
  const scenario = String(data.get('scenario'));
  const rig = presetRig(String(data.get('rig')));
  const engine = String(data.get('engine'));
  const status = $('[data-testid=status]');
  const outcome = $('[data-testid=outcome]');
  const details = $('[data-testid=details]');
  outcome.textContent = '';
  details.textContent = '';
  if (!rig) {
    status.textContent = 'unknown rig';
    return;
  }
  const flag = poolCancelFlag();
  cancel = flag.cancel;
  status.textContent = 'running…';
  try {
    if (engine === 'free') {
      if (!avail.ok) {
        outcome.textContent = 'unavailable';
        details.textContent = avail.reason;
        status.textContent = 'done';
        return;
      }
      const r = await runFreeInBrowser(rig, { id: scenario }, scenario, {
        seconds: Number(data.get('seconds')) || 2,
        cancel: flag.flag,
        onProgress: (p) => {
          status.textContent = `running… ${p.iterations} iterations, ${p.acquisitions} lock acquisitions`;
        },
      });
      outcome.textContent = r.outcome === 'invariant' ? `invariant: ${r.failure?.invariant}` : r.outcome;
      details.textContent = [
        r.failure?.message ?? `no failure in ${r.iterations} iterations`,
        ...r.warnings.map((w) => `warning: ${w}`),
        '',
        ...r.cpus.map((c) => `CPU ${c.cpu}: ${c.iterations} iterations, ${c.operations} operations, ${c.acquisitions} acquisitions, ${c.spins} spins`),
        '',
        ...(r.outcome !== 'pass' ? ['A free-run failure cannot be replayed.', `Controlled search: racebox run ${scenario} --rig ${rig.id} --engine controlled`, ''] : []),
        'Free-run does not check:',
        ...r.limits.slice(1).map((l) => `- ${l}`),
      ].join('\n');
      status.textContent = `done (stopped by ${r.stoppedBy})`;
    } else {
      const r = await explorePoolInBrowser(
        {
          scenario: { id: scenario },
          rig,
          strategy: (params.get('strategy') as ExploreStrategy | null) ?? 'pct',
          seed: Number(params.get('seed') ?? 1),
          schedules: Number(params.get('schedules') ?? 2000),
        },
        {
          workers: Number(data.get('workers')) || 2,
          cancel: flag.flag,
          onProgress: (p) => {
            status.textContent = `running… ${p.schedulesRun} schedules on ${p.workers} workers`;
          },
        },
      );
      outcome.textContent = r.cancelled ? 'cancelled' : r.outcome;
      details.textContent = [
        `${r.schedulesRun} schedules on ${r.workers} workers`,
        ...(r.failingSchedule !== undefined ? [`failing schedule index: ${r.failingSchedule}`] : []),
        ...(r.failure ? [r.failure.message, `schedule: ${r.failure.schedule}`] : []),
      ].join('\n');
      status.textContent = 'done';
    }
  } catch (e) {
    outcome.textContent = 'error';
    details.textContent = (e as Error).message;
    status.textContent = 'done';
  } finally {
    cancel = null;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void run();
});
if (params.get('autorun') === '1') void run();
