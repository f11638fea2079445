// Share links: a link made by the CLI opens in a fresh browser with the same figures; links
// from strangers that are broken or hostile leave the page working; dragging writes the plan
// into the address bar without adding history entries; deep links open presets and rules.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, assertHealthy, eventually, launch, openPlanner, requireDist, serve } from './harness.mjs';
import { mastoplan } from './cli.mjs';

describe('share links', () => {
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

  /** A fresh browser profile, as a person opening a link from a chat has. */
  async function open(url) {
    const context = await browser.newContext();
    const opened = await openPlanner(context, url);
    return { ...opened, close: () => context.close() };
  }

  test('a link made by the CLI opens with the same figures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mastoplan-link-'));
    const plan = JSON.parse(mastoplan(['preset', 'large-split']));
    plan.name = 'our-cluster';
    plan.sidekiq[0].instances = 4;
    await writeFile(join(dir, 'plan.json'), JSON.stringify(plan));
    const url = mastoplan(['link', join(dir, 'plan.json'), '--base', server.url]).trim();
    const report = JSON.parse(mastoplan(['check', '--format', 'json', '--url', url]));
    const { page, problems, close } = await open(url);
    try {
      await eventually(() => page.locator('#connections-total').innerText(), report.connections.total, 'total');
      assert.equal(await page.locator('#connections-available').innerText(), String(report.connections.available));
      assert.equal(await page.locator('details.finding').count(), report.findings.length);
      assert.equal(await page.locator('#f-sidekiq-0-instances').inputValue(), '4');
      assertHealthy(problems);
    } finally {
      await close();
    }
  });

  const hostile = {
    truncated: '#v1.AX2QTU7DMBCFPTN2EhohZcEBeoFE',
    'unknown version': '#v9.AAAA',
    'invalid base64': '#v1.%%%%',
    oversized: '#v1.' + 'A'.repeat(20_000),
    markup: '#preset=<img src=x onerror=alert(1)>',
    'unknown rule': '#rule=drop-tables',
  };
  for (const [what, fragment] of Object.entries(hostile)) {
    test(`a ${what} link shows a banner and keeps the default plan`, async () => {
      const { page, problems, close } = await open(server.url + fragment);
      try {
        const banner = page.locator('#banner');
        await banner.waitFor({ state: 'visible' });
        assert.equal(await banner.getAttribute('role'), 'alert');
        assert.match(await banner.innerText(), /could not be opened/);
        assert.equal(await page.locator('#connections-total').innerText(), '45');
        assert.equal(await page.locator('img').count(), 0, 'no markup from the link on the page');
        assertHealthy(problems);
      } finally {
        await close();
      }
    });
  }

  test('dragging writes the plan into the address bar without new history entries', async () => {
    const { page, problems, close } = await open(server.url);
    try {
      const hash = () => page.evaluate(() => location.hash);
      // The page writes the plan it opened on, then each change once it settles.
      await eventually(async () => (await hash()).startsWith('#v1.'), true, 'first fragment written');
      const first = await hash();
      const entries = await page.evaluate(() => history.length);
      const slider = page.locator('#f-web-0-max_threads');
      await slider.focus();
      for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
      await eventually(() => page.locator('#connections-total').innerText(), String(2 * 10 + 35), 'total');
      await eventually(async () => (await hash()) !== first, true, 'fragment follows the plan');
      assert.equal(await page.evaluate(() => history.length), entries);
      // The address now holds the plan: reopening it shows the same.
      const url = await page.evaluate(() => location.href);
      const again = await open(url);
      try {
        assert.equal(await again.page.locator('#connections-total').innerText(), String(2 * 10 + 35));
        assertHealthy(again.problems);
      } finally {
        await again.close();
      }
      assertHealthy(problems);
    } finally {
      await close();
    }
  });

  test('back and forward move between linked plans', async () => {
    const { page, problems, close } = await open(server.url + '#preset=compendium-example');
    try {
      await eventually(() => page.locator('#connections-total').innerText(), '185', 'first link');
      await page.evaluate(() => { location.hash = '#preset=large-split'; });
      await eventually(() => page.locator('article.host').count(), 7, 'second link');
      await page.goBack();
      await eventually(() => page.locator('#connections-total').innerText(), '185', 'back');
      await page.goForward();
      await eventually(() => page.locator('article.host').count(), 7, 'forward');
      assertHealthy(problems);
    } finally {
      await close();
    }
  });

  test('a rule deep link opens its explanation', async () => {
    const { page, problems, close } = await open(server.url + '#rule=pgbouncer-pool-mode');
    try {
      await eventually(() => page.locator('#rule-pgbouncer-pool-mode').getAttribute('open'), '', 'rule open');
      assert.match(await page.locator('#rule-pgbouncer-pool-mode').innerText(), /transaction/);
      assertHealthy(problems);
    } finally {
      await close();
    }
  });

  test('Copy link puts a link to the current plan on the clipboard', async () => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const { page, problems } = await openPlanner(context, server.url + '#preset=compendium-example');
    try {
      await eventually(() => page.locator('#connections-total').innerText(), '185', 'preset');
      await page.click('#copy-link');
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.match(copied, /#v1\./);
      assert.ok(copied.length - copied.indexOf('#') <= 201, `${copied.length} characters`);
      const report = JSON.parse(mastoplan(['check', '--format', 'json', '--url', copied]));
      assert.equal(report.connections.total, 185);
      assertHealthy(problems);
    } finally {
      await context.close();
    }
  });
});
