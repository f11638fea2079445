// Measures the release page in headless Chromium: how long a fresh browser takes from
// navigation to the first rendered figures, and how long a slider step takes to reach the
// DOM, on the single-server preset and on a generated 100-host plan (opened from a share link
// the CLI makes), with the CPU as is and throttled 4x. Prints a table; asserts nothing about
// speed. Figures go to BENCHMARKS.md.
//
//   node tests/perf/measure.mjs           full run (10 loads, 200 slider steps per case)
//   node tests/perf/measure.mjs --smoke   a few of each, to check that it runs
//   node tests/perf/measure.mjs --json    the figures as JSON too
//   --plan single-server|100-hosts, --cpu 1|4   only that plan, only that CPU rate
//
// Build first with scripts/build.sh. Needs the core's synthetic_plan example and the CLI
// (both built by cargo on first use).

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, ROOT, launch, requireDist, serve } from '../e2e/harness.mjs';
import { mastoplan } from '../e2e/cli.mjs';

const smoke = process.argv.includes('--smoke');
const json = process.argv.includes('--json');
const LOADS = smoke ? 2 : 10;
const STEPS = smoke ? 10 : 200;
const THROTTLE = 4;
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ONLY_PLAN = option('--plan');
const ONLY_CPU = option('--cpu') === undefined ? undefined : Number(option('--cpu'));
// A slider whose every step changes the connection total: a sidekiq unit's instances where
// units connect directly, a bouncer's pool where they go through PgBouncer (the total counts
// the connections Postgres sees).
const SINGLE_SLIDER = '#f-sidekiq-0-instances';
const LARGE_SLIDER = '#f-pgbouncers-0-default_pool_size';

function cargoExample(name, args = []) {
  const run = spawnSync('cargo', ['run', '-q', '-p', 'mastoplan-core', '--example', name, '--', ...args], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`example ${name} exited with ${run.status}: ${run.stderr}`);
  return run.stdout;
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), max: s[s.length - 1] };
}

/** A fresh profile (new context: no cache, no storage), with the CPU throttled by `rate`. */
async function freshPage(browser, rate) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  // Records, on the page's own clock (0 = navigation start), when #connections-total first
  // holds a figure and the loading notice is gone.
  await page.addInitScript(() => {
    const seen = () => {
      const total = document.getElementById('connections-total');
      if (total && total.textContent.trim() !== '' && !document.getElementById('boot-status')) {
        window.__firstRender = performance.now();
        return true;
      }
      return false;
    };
    const observer = new MutationObserver(() => { if (seen()) observer.disconnect(); });
    observer.observe(document, { childList: true, subtree: true, characterData: true });
  });
  return { page, context, errors };
}

async function firstRender(browser, url, rate) {
  const { page, context, errors } = await freshPage(browser, rate);
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__firstRender !== undefined, null, { timeout: 120_000 });
    if (errors.length) throw new Error(`the page reported: ${errors.join('; ')}`);
    return await page.evaluate(() => window.__firstRender);
  } finally {
    await context.close();
  }
}

/**
 * Presses ArrowRight and ArrowLeft in turn on the focused slider, `steps` times, and returns for
 * each step the time from the input event (its timeStamp) to the moment #connections-total
 * changed (a MutationObserver's callback), and to the next animation frame after that.
 */
async function sliderSteps(browser, url, slider, rate, steps) {
  const { page, context, errors } = await freshPage(browser, rate);
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__firstRender !== undefined, null, { timeout: 120_000 });
    await page.evaluate((selector) => {
      const slider = document.querySelector(selector);
      if (!slider) throw new Error(`no ${selector} on the page`);
      const total = document.getElementById('connections-total');
      window.__steps = [];
      let pending = null;
      slider.addEventListener('input', (e) => { pending = { input: e.timeStamp }; }, { capture: true });
      new MutationObserver(() => {
        if (!pending) return;
        const step = pending;
        pending = null;
        step.dom = performance.now();
        requestAnimationFrame(() => { step.frame = performance.now(); window.__steps.push(step); });
      }).observe(total, { childList: true, subtree: true, characterData: true });
      slider.focus();
    }, slider);
    for (let i = 0; i < steps; i++) {
      const before = await page.evaluate(() => window.__steps.length);
      // Up from the starting value, then back: the value moves on every press.
      await page.keyboard.press(i % 2 === 0 ? 'ArrowRight' : 'ArrowLeft');
      await page.waitForFunction((n) => window.__steps.length > n, before, { timeout: 60_000 });
    }
    if (errors.length) throw new Error(`the page reported: ${errors.join('; ')}`);
    const recorded = await page.evaluate(() => window.__steps);
    return {
      dom: stats(recorded.map((s) => s.dom - s.input)),
      frame: stats(recorded.map((s) => s.frame - s.input)),
    };
  } finally {
    await context.close();
  }
}

const fmt = (ms) => (Number.isFinite(ms) ? ms.toFixed(1).padStart(7) : '      -');

async function main() {
  requireDist();
  const dir = await mkdtemp(join(tmpdir(), 'mastoplan-perf-'));
  const server = await serve(DIST);
  const browser = await launch();
  const results = [];
  try {
    const planFile = join(dir, 'large.json');
    await writeFile(planFile, cargoExample('synthetic_plan', ['100', '400', '20']));
    const largeUrl = mastoplan(['link', planFile, '--base', server.url]).trim();
    const cases = [
      ['single-server', `${server.url}#preset=single-server`, SINGLE_SLIDER],
      ['100-hosts', largeUrl, LARGE_SLIDER],
    ];
    console.log(`dist: ${DIST}; ${LOADS} fresh loads and ${STEPS} slider steps per case (${SINGLE_SLIDER}, ${LARGE_SLIDER})`);
    console.log(`100-host link: ${largeUrl.length - server.url.length} characters after the base URL`);
    console.log('');
    console.log('plan               cpu   first render ms (median  p95  max)   slider step to DOM ms (median  p95  max)   to next frame ms (median  p95)');
    for (const [name, url, slider] of cases) {
      if (ONLY_PLAN !== undefined && name !== ONLY_PLAN) continue;
      for (const rate of [1, THROTTLE]) {
        if (ONLY_CPU !== undefined && rate !== ONLY_CPU) continue;
        const loads = [];
        for (let i = 0; i < LOADS; i++) loads.push(await firstRender(browser, url, rate));
        const load = stats(loads);
        const step = await sliderSteps(browser, url, slider, rate, STEPS);
        results.push({ plan: name, cpu_slowdown: rate, first_render_ms: load, step_to_dom_ms: step.dom, step_to_frame_ms: step.frame });
        console.log(
          `${name.padEnd(18)} ${String(rate).padStart(2)}x  ${fmt(load.median)} ${fmt(load.p95)} ${fmt(load.max)}` +
          `                ${fmt(step.dom.median)} ${fmt(step.dom.p95)} ${fmt(step.dom.max)}` +
          `                ${fmt(step.frame.median)} ${fmt(step.frame.p95)}`,
        );
      }
    }
    if (json) console.log(JSON.stringify(results, null, 2));
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => console.log('1 passed, 0 failed'),
  (error) => { console.error(error); console.log('0 passed, 1 failed'); process.exitCode = 1; },
);
