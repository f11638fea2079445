// Import and diagnose panels: configs pasted or uploaded fill the plan and say what came from
// which line; psql output pasted gives findings with the numbers.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, ROOT, assertHealthy, eventually, launch, openPlanner, requireDist, serve } from './harness.mjs';

const FIXTURES = join(ROOT, 'crates/mastoplan-core/tests/fixtures');

describe('import and diagnose', () => {
  let server;
  let browser;

  before(async () => {
    requireDist();
    server = await serve(DIST);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('pasted env text fills the plan and lists what it took', async () => {
    const { page, problems } = await openPlanner(browser, server.url);
    try {
      await page.locator('#import-panel > summary').click();
      await page.fill('#import-text', 'export WEB_CONCURRENCY=4\r\nMAX_THREADS="8"   # tuned\nNOT_A_SETTING=1\nthis line is garbage\n');
      await page.click('#import-run');
      // 4 workers x 8 threads + streaming 10 + sidekiq 25.
      await eventually(() => page.locator('#connections-total').innerText(), String(32 + 10 + 25), 'total after import');
      const summary = await page.locator('#import-summary').innerText();
      assert.match(summary, /:1 taken WEB_CONCURRENCY/);
      assert.match(summary, /:2 taken MAX_THREADS/);
      assert.match(summary, /:4 malformed/);
      assert.equal(await page.locator('#f-web-0-web_concurrency').inputValue(), '4');
      await page.click('#undo');
      await eventually(() => page.locator('#connections-total').innerText(), '45', 'undo');
      assertHealthy(problems);
    } finally {
      await page.close();
    }
  });

  test('uploaded unit files of a split setup import', async () => {
    const { page, problems } = await openPlanner(browser, server.url);
    try {
      await page.locator('#import-panel > summary').click();
      await page.setInputFiles('#import-files', [
        join(FIXTURES, 'import/hachyderm/systemctl-cat.txt'),
        join(FIXTURES, 'import/hachyderm/pgbouncer.ini'),
        join(FIXTURES, 'import/hachyderm/env.production'),
      ]);
      await eventually(async () => (await page.locator('#import-summary li').count()) > 5, true, 'summary');
      assert.ok((await page.locator('div.part.sidekiq').count()) > 1, 'one unit per queue');
      assertHealthy(problems);
    } finally {
      await page.close();
    }
  });

  test('the compendium queries pasted from psql give findings with their numbers', async () => {
    const { page, problems } = await openPlanner(browser, server.url);
    try {
      await page.locator('#diagnose-panel > summary').click();
      assert.ok((await page.locator('.copy-query').count()) >= 2, 'the queries are shown with a copy button');
      const { readFile } = await import('node:fs/promises');
      await page.fill('#diagnose-text', await readFile(join(FIXTURES, 'diagnose/compendium-states.txt'), 'utf8'));
      await page.click('#diagnose-run');
      const finding = page.locator('#diagnosis details[data-rule="idle-connections-high"]');
      await finding.waitFor();
      assert.match(await finding.innerText(), /127/);
      await page.fill('#diagnose-text', 'nothing that psql printed');
      await page.click('#diagnose-run');
      await page.locator('#diagnosis .banner.error').waitFor();
      assertHealthy(problems);
    } finally {
      await page.close();
    }
  });
});
