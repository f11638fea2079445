// The release build in headless Chromium, used the way a person uses it: the page opens on the
// single-server preset, sliders are dragged with the pointer and moved with the keyboard, and
// the Postgres connection total follows. Any console error, page error, CSP violation or failed
// request fails the test.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, assertHealthy, eventually, launch, openPlanner, requireDist, serve } from './harness.mjs';

// single-server: web 2 workers x MAX_THREADS, streaming 10, sidekiq DB_POOL = its threads.
const total = ({ web = 5, sidekiq = 25 } = {}) => 2 * web + 10 + sidekiq;

describe('the planner page', () => {
  let server;
  let browser;
  let page;
  let problems;

  before(async () => {
    requireDist();
    server = await serve(DIST);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const figure = (id) => page.locator(`#${id}`).innerText();
  const value = (id) => page.locator(`#${id}`).inputValue();

  const fresh = async () => {
    await page?.close();
    ({ page, problems } = await openPlanner(browser, server.url));
  };

  test('opens on the single-server preset: 45 of 97 connections', async () => {
    await fresh();
    assert.equal(await figure('connections-total'), '45');
    assert.equal(await figure('connections-available'), '97');
    assert.equal(await value('f-web-0-max_threads'), '5');
    assert.equal(await value('f-web-0-max_threads-n'), '5');
    assert.equal(await value('f-sidekiq-0-concurrency'), '25');
    assert.equal(await value('f-sidekiq-0-concurrency-n'), '25');
    assert.equal(await page.locator('#preset').inputValue(), 'single-server');
    assertHealthy(problems);
  });

  test('sliders and number inputs are labelled, visibly', async () => {
    await fresh();
    for (const [id, label] of [['f-web-0-max_threads', 'Threads per worker'], ['f-sidekiq-0-concurrency', 'Threads']]) {
      const slider = page.locator(`#${id}`);
      assert.equal(await slider.getAttribute('type'), 'range');
      assert.ok(await slider.isVisible());
      const labelEl = page.locator(`label[for="${id}"]`);
      assert.ok(await labelEl.isVisible(), `label of #${id}`);
      assert.equal((await labelEl.innerText()).trim(), label);
      const number = page.locator(`#${id}-n`);
      assert.equal(await number.getAttribute('type'), 'number');
      assert.match(await number.getAttribute('aria-labelledby'), new RegExp(`${id}-label ${id}-unit`));
      assert.ok(await page.locator(`#${id}-unit`).isVisible(), `unit of #${id}`);
    }
    assertHealthy(problems);
  });

  test('dragging the web threads slider updates the total while dragging', async () => {
    await fresh();
    const slider = page.locator('#f-web-0-max_threads');
    await slider.scrollIntoViewIfNeeded();
    const box = await slider.boundingBox();
    const y = box.y + box.height / 2;
    // The thumb of 5 on 1..32 sits about 4/31 along the track.
    await page.mouse.move(box.x + 8 + ((box.width - 16) * 4) / 31, y);
    await page.mouse.down();
    try {
      await page.mouse.move(box.x + box.width + 40, y, { steps: 12 });
      // Still holding the button: `input` events have already recomputed the figure.
      await eventually(() => value('f-web-0-max_threads'), '32', 'slider at the right end');
      await eventually(() => figure('connections-total'), total({ web: 32 }), 'total at 32 web threads');
      await eventually(() => value('f-web-0-max_threads-n'), '32', 'number input follows the slider');

      await page.mouse.move(box.x + box.width / 2, y, { steps: 12 });
      const middle = Number(await value('f-web-0-max_threads'));
      assert.ok(middle >= 14 && middle <= 19, `the middle of 1..32 is about 16, got ${middle}`);
      await eventually(() => figure('connections-total'), total({ web: middle }), `total at ${middle} web threads`);

      await page.mouse.move(box.x - 40, y, { steps: 12 });
    } finally {
      await page.mouse.up();
    }
    await eventually(() => value('f-web-0-max_threads'), '1', 'slider at the left end');
    await eventually(() => figure('connections-total'), total({ web: 1 }), 'total at 1 web thread');
    assertHealthy(problems);
  });

  test('the sidekiq slider moves with the keyboard', async () => {
    await fresh();
    // Tab to the slider as a keyboard user does.
    for (let i = 0; i < 300; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.id)) === 'f-sidekiq-0-concurrency') break;
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-sidekiq-0-concurrency');

    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await eventually(() => figure('connections-total'), total({ sidekiq: 28 }), 'three steps right');
    assert.equal(await value('f-sidekiq-0-concurrency-n'), '28');
    await page.keyboard.press('ArrowLeft');
    await eventually(() => figure('connections-total'), total({ sidekiq: 27 }), 'one step left');
    await page.keyboard.press('End');
    await eventually(() => figure('connections-total'), total({ sidekiq: 100 }), 'End');
    assert.equal(await page.locator('section.budget.over').count(), 1, '120 of 97 is marked over budget');
    await page.keyboard.press('Home');
    await eventually(() => figure('connections-total'), total({ sidekiq: 1 }), 'Home');
    assert.equal(await page.locator('section.budget.over').count(), 0);
    assertHealthy(problems);
  });

  test('typing an exact number moves the slider; out of range never lands', async () => {
    await fresh();
    const number = page.locator('#f-web-0-max_threads-n');
    await number.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('12');
    await eventually(() => figure('connections-total'), total({ web: 12 }), 'typed 12');
    assert.equal(await value('f-web-0-max_threads'), '12');

    // 2, 20 and 200 are each taken as typed; 2000 is past MAX_THREADS's range and is not.
    await page.keyboard.press('Control+A');
    await page.keyboard.type('2000');
    await page.keyboard.press('Tab');
    await eventually(() => value('f-web-0-max_threads-n'), '200', 'the field shows what the plan holds');
    await eventually(() => figure('connections-total'), total({ web: 200 }), 'total at 200');
    assertHealthy(problems);
  });
});

describe('the release build', () => {
  test('uses only relative URLs, so it works under any sub-path', async () => {
    const html = await readFile(join(DIST, 'index.html'), 'utf8');
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(urls.some((u) => u.endsWith('.js')), `no script URL in ${urls}`);
    assert.ok(urls.some((u) => u.endsWith('.wasm')), `no wasm URL in ${urls}`);
    for (const url of urls) {
      assert.match(url, /^\.\//, `${url} is not relative to the page`);
    }
  });

  test('has a strict CSP and no inline script', async () => {
    const html = await readFile(join(DIST, 'index.html'), 'utf8');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
    assert.ok(csp, 'no CSP meta');
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/);
    for (const [, attrs, body] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(attrs, /\bsrc="/, `inline script: ${body.slice(0, 80)}`);
    }
  });
});
