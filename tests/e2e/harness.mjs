// What every end-to-end test needs: the release dist/ served over HTTP under a sub-path (as
// GitHub Pages serves it), Debian's headless Chromium, and a record of everything that went
// wrong on the page. `openPlanner` fails when the page stays blank, the wasm does not load, or
// anything (a script, the CSP, a failed request) reports an error.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = resolve(ROOT, process.env.MASTOPLAN_DIST ?? 'dist');
export const SUB_PATH = 'mastoplan';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Fails with the command to run when there is no release build to test. */
export function requireDist(dir = DIST) {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`${dir}/index.html does not exist: build it with scripts/build.sh`);
  }
}

/**
 * Serves `dir` at http://127.0.0.1:PORT/mastoplan/ with python3's http.server on a free port
 * (static_server.py). Call `close()` when done (tests do it in `after`, which runs on failure
 * too); if the test process dies first, the server dies with it.
 */
export async function serve(dir) {
  const top = await mkdtemp(join(tmpdir(), 'mastoplan-e2e-'));
  await symlink(resolve(dir), join(top, SUB_PATH));
  const server = spawn('python3', [join(ROOT, 'tests/e2e/static_server.py'), top], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => server.kill('SIGKILL');
  process.once('exit', killOnExit);

  let log = '';
  server.stderr.on('data', (chunk) => { log += chunk; });
  const port = await new Promise((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`http.server did not start: ${out}${log}`)), 15_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /port (\d+)/.exec(out);
      if (match) { clearTimeout(timer); resolvePort(Number(match[1])); }
    });
    server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`http.server exited (${code}): ${out}${log}`)); });
  });

  return {
    url: `http://127.0.0.1:${port}/${SUB_PATH}/`,
    log: () => log,
    async close() {
      process.removeListener('exit', killOnExit);
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM');
        await once(server, 'exit');
      }
      await rm(top, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless. Close it in `after`. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens the planner in a new page and waits until it has rendered its figures. Returns the
 * page and the list of problems seen so far, which keeps growing while the page is used;
 * pass it to `assertHealthy` at the end of a test. Throws when the app does not render.
 */
export async function openPlanner(browser, url, { timeout = 15_000 } = {}) {
  const page = await browser.newPage();
  const problems = [];
  // Chromium reports CSP violations as console errors; this listener makes them explicit
  // even if a future version only fires the DOM event.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });

  await page.goto(url, { waitUntil: 'load' });
  try {
    // Rendered: the figures are there and js/boot.js has removed its loading notice. Failed:
    // boot.js has replaced the notice with the error. A blank page waits out the timeout.
    await page.waitForFunction(() => {
      const status = document.getElementById('boot-status');
      return (!status && document.getElementById('connections-total')) ||
        status?.textContent.includes('failed to load');
    }, null, { timeout });
    const failure = await page.locator('#boot-status').textContent({ timeout: 1_000 }).catch(() => null);
    if (failure !== null) throw new Error(failure.trim());
    await page.locator('#connections-total').waitFor({ state: 'visible', timeout: 5_000 });
  } catch (error) {
    const body = (await page.locator('body').innerText().catch(() => '')).trim();
    await page.close();
    throw new Error(
      `the planner did not render at ${url}: ${error.message.split('\n')[0]}\n` +
      `page text: ${JSON.stringify(body.slice(0, 300))}\nproblems:\n  ${problems.join('\n  ') || '(none)'}`,
    );
  }
  return { page, problems };
}

/** Throws when anything went wrong on the page since it was opened. */
export function assertHealthy(problems) {
  if (problems.length > 0) {
    throw new Error(`the page reported ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }
}

/** Opens the planner at `url` and checks it rendered without any problem. */
export async function checkPlanner(browser, url, options) {
  const { page, problems } = await openPlanner(browser, url, options);
  try {
    // Errors that arrive just after the first render (a late CSP report) still count.
    await page.waitForTimeout(300);
    assertHealthy(problems);
  } finally {
    await page.close();
  }
}

/** Polls `read` until it returns `expected` (compared as strings), or fails with the last value. */
export async function eventually(read, expected, what, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await read();
    if (String(last) === String(expected)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: expected ${JSON.stringify(String(expected))}, still ${JSON.stringify(String(last))}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
