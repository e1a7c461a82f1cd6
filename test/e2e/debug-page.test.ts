/**
 * GET /debug in a real browser (headless Chromium): the page draws the live wheel from
 * /debug/wheel, follows changes made through the API, and runs under its own CSP without errors.
 * A screenshot goes to test-output/debug-page.png.
 *
 * Chromium comes from Debian (.ci/install-chromium). Without it the test fails in CI and is
 * skipped elsewhere with a note.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, waitInPage, type HeadlessBrowser } from '../helpers/headless-chromium.js';
import { DalgaProcess, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOT = join(ROOT, 'test-output/debug-page.png');

/**
 * Browser-side code is passed as strings: the project compiles without the DOM library (it is a
 * server), and these few expressions are checked by running them.
 */
const timersShown = (n: number) => `document.getElementById('timers')?.textContent === '${n}'`;

interface Cell {
  level: number;
  slot: number;
  count: number;
  background: string;
}

interface WheelJson {
  timers: number;
  in_flight: number;
  waiting: number;
  levels: { level: number; cursor: number; slot_counts: number[] }[];
}

describe('GET /debug in headless Chromium', { skip: chromiumMissing('debug page test') }, () => {
  let db: TestDatabase;
  let dalga: DalgaProcess;
  let browser: HeadlessBrowser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    db = createTestDatabase('sqlite');
    dalga = await DalgaProcess.start(writeConfig(db, ''));
    browser = await launchChromium();
    ({ page } = browser);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await dalga?.stop();
    await db?.drop();
  });

  test('draws the live wheel: counts, a heat map with cursors, the next jobs; follows API changes', async () => {
    // Nothing fires during the test (the soonest is 20 s away), so the counts hold still.
    for (const [body, interval] of [
      ['a', '20'],
      ['b', '45'],
      ['c', '3600'],
      ['d', 'P1D'],
      ['e', 'P1Y'],
    ]) {
      assert.equal((await dalga.request('PUT', `/jobs/page_job/${body}?interval=${interval}`)).status, 201);
    }
    for (let i = 0; i < 20; i++) await dalga.request('PUT', `/jobs/bulk/${i}?interval=600`);

    const response = await page.goto(`${dalga.url}/debug`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'nonce-/);
    assert.equal(await page.title(), 'Dalga wheel');

    const wheel = (await dalga.request('GET', '/debug/wheel')).json as WheelJson;
    assert.equal(wheel.timers, 25);
    await waitInPage(page, timersShown(wheel.timers), 5_000);
    assert.equal(await page.textContent('#in-flight'), String(wheel.in_flight));
    assert.equal(await page.textContent('#waiting'), String(wheel.waiting));

    // One row of slots per level, one cursor per level, and the cells carry the wheel's counts.
    assert.equal(await page.locator('.level').count(), wheel.levels.length);
    assert.equal(await page.locator('.cell.cursor').count(), wheel.levels.length);
    const cells = await page.evaluate<Cell[]>(
      `Array.from(document.querySelectorAll('.cell')).map((n) => ({
        level: Number(n.dataset.level), slot: Number(n.dataset.slot), count: Number(n.dataset.count), background: n.style.background,
      }))`,
    );
    const drawn = cells.reduce((sum, cell) => sum + cell.count, 0);
    assert.equal(drawn, 25, 'every timer is in some cell');
    const hot = cells.filter((cell) => cell.count > 0);
    assert.ok(hot.length >= 3, 'jobs 20 s, 45 s, 10 min, 1 h, 1 d and 1 y apart fill several slots');
    assert.ok(
      hot.every((cell) => cell.background !== ''),
      'non-empty cells are coloured',
    );
    // The 20 jobs due within a few ms of each other share one cell (two, if a slot edge falls between).
    const bulk = hot.reduce((most, cell) => (cell.count > most.count ? cell : most));
    assert.ok(bulk.count >= 10, `the busiest cell holds ${bulk.count}`);

    // The next jobs due, soonest first.
    const next = await page.evaluate<string[][]>(
      `Array.from(document.querySelectorAll('#next tr')).map((row) => Array.from(row.children).map((td) => td.textContent))`,
    );
    assert.deepEqual(next[0].slice(2), ['page_job', 'a']);

    // Clicking a cell lists its timers.
    await page.click(`.cell[data-level="${bulk.level}"][data-slot="${bulk.slot}"]`);
    await waitInPage(page, `document.querySelectorAll('#slot tr').length === ${bulk.count}`, 5_000);

    // Live: changes through the API show up within a refresh or two.
    for (let i = 20; i < 30; i++) await dalga.request('PUT', `/jobs/bulk/${i}?interval=600`);
    await waitInPage(page, timersShown(35), 3_000);

    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
    assert.deepEqual(problems, [], 'no script errors and no CSP violations');
  });

  test('says so when the server stops answering, keeping the last picture', async () => {
    await page.route('**/debug/wheel*', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"database unreachable"}' }),
    );
    await page.waitForSelector('#error', { state: 'visible', timeout: 3_000 });
    assert.match((await page.textContent('#error')) ?? '', /database unreachable/);
    assert.equal(await page.textContent('#timers'), '35');
    await page.unroute('**/debug/wheel*');
    await page.waitForSelector('#error', { state: 'hidden', timeout: 3_000 });
  });
});
