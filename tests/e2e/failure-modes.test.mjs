// The end-to-end checks must catch a broken site, not only pass on a good one: each test here
// breaks a copy of dist/ in one way and requires `checkPlanner` to fail on it, and to pass on
// the untouched copy (so the breakage, not the copy, is what it sees).

import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, checkPlanner, launch, requireDist, serve } from './harness.mjs';

describe('the end-to-end harness', () => {
  const cleanups = [];
  let browser;

  before(async () => {
    requireDist();
    browser = await launch();
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await browser?.close();
  });

  /** Serves a copy of dist/ after `breakIt(dir)` has changed it; returns the page URL. */
  async function brokenCopy(breakIt) {
    const dir = await mkdtemp(join(tmpdir(), 'mastoplan-broken-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(DIST, dir, { recursive: true });
    await breakIt(dir);
    const server = await serve(dir);
    cleanups.push(() => server.close());
    return server.url;
  }

  const editIndex = (edit) => async (dir) => {
    const file = join(dir, 'index.html');
    const html = await readFile(file, 'utf8');
    const changed = edit(html);
    assert.notEqual(changed, html, 'the edit must change index.html');
    await writeFile(file, changed);
  };

  test('passes on an untouched copy', { timeout: 60_000 }, async () => {
    await checkPlanner(browser, await brokenCopy(async () => {}));
  });

  test('fails when the wasm is truncated', { timeout: 60_000 }, async () => {
    const url = await brokenCopy(async (dir) => {
      const wasm = (await readdir(dir)).find((f) => f.endsWith('.wasm'));
      assert.ok(wasm, 'dist/ has a .wasm');
      const { size } = await stat(join(dir, wasm));
      await truncate(join(dir, wasm), Math.floor(size / 2));
    });
    await assert.rejects(checkPlanner(browser, url), /did not render[\s\S]*page error: .*(CompileError|WebAssembly)/);
  });

  test('fails when the page stays blank', { timeout: 60_000 }, async () => {
    const url = await brokenCopy(editIndex((html) => html.replace(/<script [^>]*boot[^>]*><\/script>/, '')));
    // Nothing reports an error here: only the missing figures show it, after the timeout.
    await assert.rejects(checkPlanner(browser, url, { timeout: 5_000 }), /did not render/);
  });

  test('fails on a console error', { timeout: 60_000 }, async () => {
    const url = await brokenCopy(async (dir) => {
      await writeFile(join(dir, 'noise.js'), 'console.error("deliberate error for the harness test");\n');
      await editIndex((html) => html.replace('</body>', '<script src="./noise.js"></script></body>'))(dir);
    });
    await assert.rejects(checkPlanner(browser, url), /console error: deliberate error/);
  });

  test('fails when the CSP blocks something', { timeout: 60_000 }, async () => {
    const url = await brokenCopy(editIndex((html) => html.replace('</body>', '<script>document.title = "inline";</script></body>')));
    await assert.rejects(checkPlanner(browser, url), /Content Security Policy|CSP violation/);
  });

  test('fails on a missing file', { timeout: 60_000 }, async () => {
    const url = await brokenCopy(async (dir) => {
      const css = (await readdir(dir)).find((f) => f.endsWith('.css'));
      assert.ok(css, 'dist/ has a .css');
      await rm(join(dir, css));
    });
    await assert.rejects(checkPlanner(browser, url), /HTTP 404/);
  });
});
