// The planner page used as an admin uses it: presets, dragging until a finding appears and
// goes, a new host with a PgBouncer, duplicate and remove, undo, downloading a generated file,
// and the layout from a phone to a wide screen.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, ROOT, assertHealthy, eventually, launch, openPlanner, requireDist, serve } from './harness.mjs';
import { mastoplan } from './cli.mjs';

const ARTIFACTS = join(ROOT, 'tests/e2e/artifacts');

describe('the planner page', () => {
  let server;
  let browser;
  let page;
  let problems;

  before(async () => {
    requireDist();
    server = await serve(DIST);
    browser = await launch();
    await mkdir(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
  });

  const figure = (id) => page.locator(`#${id}`).innerText();
  const findings = (name) => page.locator(`details[data-rule="${name}"]`).count();
  const fresh = async (suffix = '') => {
    await page?.close();
    ({ page, problems } = await openPlanner(browser, server.url + suffix));
  };

  /** Drags a range input's thumb with the pointer from its current value to `fraction` of the track. */
  async function drag(id, to, { until } = {}) {
    const slider = page.locator(`#${id}`);
    await slider.scrollIntoViewIfNeeded();
    const box = await slider.boundingBox();
    const [min, max, value] = await slider.evaluate((el) => [Number(el.min), Number(el.max), Number(el.value)]);
    const at = (f) => box.x + 8 + (box.width - 16) * f;
    const y = box.y + box.height / 2;
    await page.mouse.move(at((value - min) / (max - min)), y);
    await page.mouse.down();
    try {
      const steps = 40;
      const from = (value - min) / (max - min);
      for (let i = 1; i <= steps; i++) {
        await page.mouse.move(at(from + ((to - from) * i) / steps), y);
        if (until && (await until())) return Number(await slider.inputValue());
      }
    } finally {
      await page.mouse.up();
    }
    return Number(await slider.inputValue());
  }

  test('a preset from the picker: the compendium example, 185 of 200', async () => {
    await fresh();
    await page.selectOption('#preset', 'compendium-example');
    await eventually(() => figure('connections-total'), '185', 'total');
    assert.equal(await figure('connections-available'), '200');
    assert.equal(await findings('queue-unserved'), 1, 'the example serves no ingress queue');
    assertHealthy(problems);
  });

  test('drag sidekiq threads until Postgres is over budget, and back', async () => {
    await fresh();
    assert.equal(await findings('connections-over-budget'), 0);
    // single-server: 10 web + 10 streaming + sidekiq; 97 available.
    const over = await drag('f-sidekiq-0-concurrency', 1, { until: async () => (await findings('connections-over-budget')) > 0 });
    assert.ok(over >= 78, `over budget from 78 sidekiq threads, appeared at ${over}`);
    assert.equal(await findings('connections-over-budget'), 1);
    assert.equal(Number(await figure('connections-total')), 20 + over);
    const back = await drag('f-sidekiq-0-concurrency', 0.2, { until: async () => (await findings('connections-over-budget')) === 0 });
    assert.ok(back <= 77, `within budget again at ${back}`);
    assertHealthy(problems);
  });

  test('a new host with a PgBouncer splits the budget', async () => {
    await fresh();
    await page.click('#add-host');
    await eventually(() => page.locator('article.host').count(), 2, 'two hosts');
    await page.selectOption('#add-to-host-1', 'pgbouncers');
    await eventually(() => page.locator('#bar-pgbouncer-pgbouncer-host').count(), 1, 'the bouncer has its bar');
    await page.selectOption('#f-sidekiq-0-pgbouncer', 'pgbouncer-host');
    await page.selectOption('#f-web-0-pgbouncer', 'pgbouncer-host');
    // 25 sidekiq + 10 web clients reach Postgres as the bouncer's 20 server connections.
    await eventually(() => figure('connections-total'), String(10 + 20), 'Postgres server side');
    const bouncerBar = page.locator('#bar-pgbouncer-pgbouncer-host');
    assert.match(await bouncerBar.innerText(), /35 \/ 100/);
    assertHealthy(problems);
  });

  test('duplicate and remove a host, then undo with the keyboard', async () => {
    await fresh('#preset=large-split');
    await eventually(() => page.locator('article.host').count(), 7, 'large-split hosts');
    const before = await figure('connections-total');
    await page.locator('article.host').nth(3).locator('.duplicate-host').click();
    await eventually(() => page.locator('article.host').count(), 8, 'a copy');
    assert.equal(await page.locator('#f-hosts-7-name').inputValue(), 'worker-1-2');
    await page.locator('article.host').nth(1).locator('.remove-host').click();
    await eventually(() => page.locator('article.host').count(), 7, 'web-1 removed');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    await eventually(() => page.locator('article.host').count(), 8, 'undo brings web-1 back');
    await page.keyboard.press('Control+z');
    await eventually(() => page.locator('article.host').count(), 7, 'undo removes the copy');
    assert.equal(await figure('connections-total'), before);
    await page.keyboard.press('Control+Shift+z');
    await eventually(() => page.locator('article.host').count(), 8, 'redo');
    assertHealthy(problems);
  });

  test('a downloaded file equals the CLI export of the same plan', async () => {
    await fresh('#preset=large-split');
    const dir = await mkdtemp(join(tmpdir(), 'mastoplan-export-'));
    await writeFile(join(dir, 'plan.json'), mastoplan(['preset', 'large-split']));
    mastoplan(['export', join(dir, 'plan.json'), '--out', join(dir, 'out')]);

    await page.locator('#export-panel > summary').click();
    for (const path of ['worker-1/etc/pgbouncer/pgbouncer.ini', 'web-1/etc/mastodon/web.env', 'ROLLOUT.txt']) {
      const file = page.locator(`details.export-file[data-path="${path}"]`);
      await file.locator('summary').click();
      const [download] = await Promise.all([page.waitForEvent('download'), file.locator('.download-file').click()]);
      const saved = join(dir, `downloaded-${path.replaceAll('/', '_')}`);
      await download.saveAs(saved);
      assert.equal(await readFile(saved, 'utf8'), await readFile(join(dir, 'out', path), 'utf8'), path);
    }
    const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#download-all')]);
    assert.equal(zip.suggestedFilename(), 'mastoplan-large-split.zip');
    const bytes = await readFile(await zip.path());
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip archive');
    assertHealthy(problems);
  });

  for (const width of [360, 1440]) {
    test(`at ${width} px wide the page fits and is not blank`, async () => {
      await page?.close();
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      ({ page, problems } = await openPlanner(context, server.url + '#preset=large-split'));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${overflow}px of horizontal scrolling at ${width}px`);
      const shot = await page.screenshot();
      await writeFile(join(ARTIFACTS, `planner-${width}.png`), shot);
      // A blank or unstyled viewport compresses to a few kilobytes.
      assert.ok(shot.length > 30_000, `screenshot of ${shot.length} bytes looks blank`);
      const visibleText = await page.locator('body').innerText();
      assert.match(visibleText, /Postgres connections/);
      assertHealthy(problems);
      await page.close();
      page = undefined;
      await context.close();
    });
  }
});
