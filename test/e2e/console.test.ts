/**
 * The console at GET / in a real browser (headless Chromium): the jobs table with search and
 * paging, a job's detail with its next slots, Trigger / Disable / Enable / Delete, the form with
 * the server's 400 message, and the token asked for once (the /debug page using it too).
 * Screenshots go to test-output/console/; the jobs list is also copied to docs/console.png.
 * The Failing / Disabled filters list what GET /jobs?status= answers; a triggered run shows in
 * the job's run history.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { DalgaClient, type DalgaError } from '../../src/client/dalga-client.js';
import { DalgaProcess, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { chromiumMissing, launchChromium, waitInPage, type HeadlessBrowser } from '../helpers/headless-chromium.js';
import { startTestStack, type TestStack } from '../helpers/test-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-output/console');
const TOKEN = 'console-test-token';

/** Browser-side expressions (the project compiles without the DOM library). */
const rowCount = (n: number) => `document.querySelectorAll('#job-rows tr').length === ${n}`;
const textIs = (id: string, text: string) => `document.getElementById(${JSON.stringify(id)})?.textContent === ${JSON.stringify(text)}`;
const rowTexts = `Array.from(document.querySelectorAll('#job-rows tr')).map((row) => Array.from(row.children).map((td) => td.textContent))`;

describe('the console at GET / in headless Chromium', { skip: chromiumMissing('console test') }, () => {
  let stack: TestStack & { dalga: DalgaProcess };
  let guardedDb: TestDatabase;
  let guarded: DalgaProcess;
  let browser: HeadlessBrowser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const watch = (p: Page) => {
    p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    p.on('console', (message) => {
      // A 401 or 404 answer is logged by Chromium itself; the page handles both.
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
    });
  };

  before(async () => {
    stack = await startTestStack('sqlite', (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\n`);
    guardedDb = createTestDatabase('sqlite');
    guarded = await DalgaProcess.start(writeConfig(guardedDb, `[endpoint]\nbaseurl = ${stack.endpoint.baseUrl}\n[listen]\ntoken = ${TOKEN}\n`), {
      readyHeaders: { authorization: `Bearer ${TOKEN}` },
    });
    browser = await launchChromium();
    ({ context, page } = browser);
    watch(page);
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await guarded?.stop();
    await guardedDb?.drop();
    await stack?.teardown();
  });

  test('jobs table: schedules in words, search by path prefix, filters, paging', async (t) => {
    const { dalga } = stack;
    for (const [key, query] of [
      ['reports%2Fdaily/acme', 'cron=30%209%20*%20*%201-5&location=America%2FNew_York'],
      ['check_feed/1234', 'interval=60'],
      ['iso/x', 'interval=PT1H'],
      ['once/x', 'one-off=true&first-run=2030-01-02T15:04:05Z'],
    ]) {
      assert.equal((await dalga.request('PUT', `/jobs/${key}?${query}`)).status, 201);
    }
    for (let i = 0; i < 25; i++) await dalga.request('PUT', `/jobs/tick/${String(i).padStart(2, '0')}?interval=3600`);
    // One failing job, for the picture: its endpoint answers 500.
    stack.endpoint.responder = (callback) => ({ status: callback.path === '/flaky' ? 500 : 200 });
    assert.equal((await dalga.request('PUT', '/jobs/flaky/7?interval=3600&immediate=true')).status, 201);
    await stack.endpoint.waitFor((callback) => callback.path === '/flaky');
    await eventually(
      () => dalga.request('GET', '/jobs/flaky/7'),
      (job) => job.json.attempts >= 1,
      'a failed attempt',
    );

    const response = await page.goto(`${dalga.url}/`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'nonce-/);
    assert.equal(await page.title(), 'Dalga console');
    await waitInPage(page, rowCount(20)); // the first page of 30 jobs
    await waitInPage(page, textIs('role', 'all shards'));
    assert.equal(await page.textContent('#state'), 'ready');

    await page.getByLabel('Search').fill('check');
    await waitInPage(page, rowCount(1));
    const [row] = await page.evaluate<string[][]>(rowTexts);
    assert.deepEqual([row[0], row[1], row[2], row[4], row[5]], ['check_feed', '1234', 'every 60 s', 'never ran', '0']);
    assert.match(row[3], /^in \d+(\.\d)? s/);

    const schedules: Record<string, string> = {};
    await page.getByLabel('Search').fill('');
    await waitInPage(page, `(${rowTexts}).some((row) => row[0] === 'check_feed') && document.querySelectorAll('#job-rows tr.failing').length === 1`);
    for (const [path, , schedule] of await page.evaluate<string[][]>(rowTexts)) schedules[path] = schedule;
    assert.equal(schedules['reports/daily'], 'cron 30 9 * * 1-5 (America/New_York)');
    assert.equal(schedules.iso, 'every PT1H');
    assert.equal(schedules.once, 'once at 2030-01-02 15:04:05 UTC');
    assert.equal(await page.textContent('#job-rows tr.failing td:nth-child(5)'), '500');
    await page.screenshot({ path: join(SHOTS, 'jobs.png'), fullPage: true });
    copyFileSync(join(SHOTS, 'jobs.png'), join(ROOT, 'docs/console.png'));

    // Paging: 25 tick jobs are a page of 20 and one of 5; the search text stays through refreshes.
    await page.getByLabel('Search').fill('tick');
    await waitInPage(page, `${rowCount(20)} && document.querySelector('#job-rows td').textContent === 'tick'`);
    await page.getByRole('button', { name: 'Next' }).click();
    await waitInPage(page, rowCount(5));
    assert.equal(await page.textContent('#page-info'), 'page 2');
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // a refresh keeps the page
    assert.equal(await page.evaluate<number>(`document.querySelectorAll('#job-rows tr').length`), 5);
    assert.equal(await page.inputValue('#search'), 'tick');
    await page.getByRole('button', { name: 'Previous' }).click();
    await waitInPage(page, rowCount(20));

    // The filters ask the server for status=failing / status=disabled and list what it answers.
    await page.getByLabel('Search').fill('');
    for (const [filter, rows] of [
      ['Failing', `${rowCount(1)} && document.querySelector('#job-rows td').textContent === 'flaky'`],
      ['Disabled', rowCount(0)],
    ]) {
      const asked = page.waitForRequest((request) => request.url().includes(`status=${filter.toLowerCase()}`));
      await page.getByRole('button', { name: filter, exact: true }).click();
      await asked;
      assert.equal(await page.getAttribute(`[data-filter="${filter.toLowerCase()}"]`, 'aria-pressed'), 'true');
      await waitInPage(page, rows);
    }
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await waitInPage(page, rowCount(20));

    // On a phone-sized screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SHOTS, 'jobs-phone.png') });
    await page.setViewportSize({ width: 1400, height: 900 });
    t.diagnostic(`screenshots: ${SHOTS}`);
  });

  test('job detail: next 5 slots, run history, Trigger, Disable / Enable, Delete with a confirmation', async (t) => {
    const { dalga, endpoint } = stack;
    await page.getByLabel('Search').fill('check_feed');
    await waitInPage(page, rowCount(1));
    await page.getByRole('button', { name: 'check_feed', exact: true }).click();
    await waitInPage(page, textIs('d-schedule', 'every 60 s'));

    const client = new DalgaClient({ baseUrl: dalga.url });
    const slots = await client.slots('check_feed', '1234');
    assert.equal(slots.length, 5);
    assert.equal(slots[0], (await client.get('check_feed', '1234'))?.next_sched);
    await assert.rejects(client.slots('missing', 'x', 5), (error: DalgaError) => error.status === 404);
    await waitInPage(page, `document.querySelectorAll('#slots li').length === 5`);
    const shown = await page.evaluate<string[]>(`Array.from(document.querySelectorAll('#slots li')).map((li) => li.textContent)`);
    assert.deepEqual(
      shown,
      slots.map((slot) => slot.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC')),
    );
    await waitInPage(page, textIs('runs-note', 'no runs yet'));

    await page.getByRole('button', { name: 'Trigger', exact: true }).click();
    await endpoint.waitFor((callback) => callback.path === '/check_feed' && callback.body === '1234');
    // The run shows in the history (the detail refreshes by itself): attempt 1, answered 200.
    await waitInPage(page, `document.querySelectorAll('#run-rows tr').length === 1`);
    const [run] = await page.evaluate<string[][]>(
      `Array.from(document.querySelectorAll('#run-rows tr')).map((tr) => Array.from(tr.cells).map((td) => td.textContent))`,
    );
    assert.deepEqual([run[1], run[4]], ['1', '200']);

    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await waitInPage(page, `${textIs('toggle', 'Enable')} && ${textIs('d-next-run', 'disabled')}`);
    assert.equal((await dalga.request('GET', '/jobs/check_feed/1234')).json.enabled, false);
    assert.equal(await page.isDisabled('#trigger'), true, 'a disabled job cannot be triggered');
    assert.equal(await page.evaluate<number>(`document.querySelectorAll('#slots li').length`), 5, "a disabled job's slots are listed");
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await waitInPage(page, textIs('toggle', 'Disable'));
    assert.equal((await dalga.request('GET', '/jobs/check_feed/1234')).json.enabled, true);
    await page.screenshot({ path: join(SHOTS, 'job-detail.png'), fullPage: true });

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await dalga.request('GET', '/jobs/check_feed/1234')).status, 200, 'Cancel keeps it');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.waitForSelector('#detail', { state: 'hidden' });
    assert.equal((await dalga.request('GET', '/jobs/check_feed/1234')).status, 404);
    await waitInPage(page, rowCount(0));
    t.diagnostic(`screenshots: ${SHOTS}`);
  });

  test("the form creates a job and shows the server's 400 message", async (t) => {
    const { dalga } = stack;
    await page.getByRole('button', { name: 'New job' }).click();
    await page.getByLabel('Path', { exact: true }).fill('made/by form');
    await page.getByLabel('Body', { exact: true }).fill('b-1');
    await page.getByLabel('Interval', { exact: true }).fill('nope');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('#form-error', { state: 'visible' });
    const message = (await dalga.request('PUT', '/jobs/x/y?interval=nope')).json.error as string;
    assert.equal(await page.textContent('#form-error'), message);
    await page.screenshot({ path: join(SHOTS, 'form-error.png'), fullPage: true });

    await page.getByLabel('Interval', { exact: true }).fill('90');
    await page.getByLabel('Location', { exact: true }).fill('Europe/Istanbul');
    await page.getByRole('button', { name: 'Save' }).click();
    await waitInPage(page, textIs('d-schedule', 'every 90 s (Europe/Istanbul)'));
    const made = await dalga.request('GET', `/jobs/${encodeURIComponent('made/by form')}/b-1`);
    assert.equal(made.status, 200);
    assert.equal(made.json.interval, 90);

    // Edit: the same key, now on a cron schedule.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('on a cron schedule').check();
    await page.getByLabel('Cron', { exact: true }).fill('0 8 * * *');
    await page.getByRole('button', { name: 'Save' }).click();
    await waitInPage(page, textIs('d-schedule', 'cron 0 8 * * * (Europe/Istanbul)'));
    assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    t.diagnostic(`screenshots: ${SHOTS}`);
  });

  test('with [listen] token: asked once, kept for the tab, and the /debug page uses it too', async () => {
    assert.equal((await guarded.request('PUT', '/jobs/guarded/1?interval=600', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 201);
    const tab = await context.newPage();
    watch(tab);
    const response = await tab.goto(`${guarded.url}/`);
    assert.equal(response?.status(), 200, 'the page loads without the token');
    await tab.waitForSelector('#auth', { state: 'visible' });
    await tab.getByLabel('API token').fill('wrong');
    await tab.getByRole('button', { name: 'Use token' }).click();
    await waitInPage(tab, `/refused/.test(document.getElementById('auth-note').textContent)`);
    await tab.getByLabel('API token').fill(TOKEN);
    await tab.getByRole('button', { name: 'Use token' }).click();
    await waitInPage(tab, `${rowCount(1)} && document.querySelector('#job-rows td').textContent === 'guarded'`);
    assert.equal(await tab.isHidden('#auth'), true);

    // Not asked again: a reload keeps it, and so does /debug in the same tab.
    await tab.reload();
    await waitInPage(tab, rowCount(1));
    assert.equal(await tab.isHidden('#auth'), true);
    await tab.goto(`${guarded.url}/debug`);
    await waitInPage(tab, textIs('timers', '1'));
    assert.equal(await tab.isHidden('#auth'), true);

    // /debug asks for it itself when the tab has none.
    const fresh = await context.newPage();
    watch(fresh);
    await fresh.goto(`${guarded.url}/debug`);
    await fresh.waitForSelector('#auth', { state: 'visible' });
    await fresh.getByLabel('API token').fill(TOKEN);
    await fresh.getByRole('button', { name: 'Use token' }).click();
    await waitInPage(fresh, textIs('timers', '1'));
    await fresh.close();
    await tab.close();
    assert.deepEqual(problems, [], 'no script errors and no CSP violations');
  });
});
