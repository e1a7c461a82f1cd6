/**
 * DalgaClient (`dalga/client`) against a live server, as an application would use it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DalgaClient, DalgaError, type DalgaJob } from '../../src/client/dalga-client.js';
import type { JobJson } from '../../src/jobs/job.js';
import { DalgaProcess, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer } from '../helpers/endpoint-server.js';

// Compile-time: the client's job type is exactly what the server sends (either direction).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameShape: Same<DalgaJob, JobJson> = true;

describe('DalgaClient (live server)', () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let dalga: DalgaProcess;
  let client: DalgaClient;

  before(async () => {
    db = createTestDatabase('sqlite');
    endpoint = await EndpointServer.start();
    dalga = await DalgaProcess.start(writeConfig(db, `[endpoint]\nbaseurl = ${endpoint.baseUrl}\n`));
    client = new DalgaClient({ baseUrl: dalga.url });
  });

  after(async () => {
    await dalga?.stop();
    await endpoint?.close();
    await db?.drop();
  });

  test('schedule with an interval, get it back, cancel it', async () => {
    assert.equal(sameShape, true);
    const job = await client.schedule('check_feed', '1234', { interval: 60 });
    assert.equal(job.path, 'check_feed');
    assert.equal(job.interval, 60);
    assert.ok(Math.abs(Date.parse(job.next_run as string) - Date.now() - 60_000) < 5_000);
    assert.deepEqual(await client.get('check_feed', '1234'), job);
    await client.cancel('check_feed', '1234');
    await client.cancel('check_feed', '1234'); // idempotent
    assert.equal(await client.get('check_feed', '1234'), null, 'get() returns null for an unknown job');
  });

  test('keys with "/", spaces and non-ASCII travel as one segment each', async () => {
    const job = await client.schedule('feeds/check?x=1', 'user 1/ş#', { interval: 'PT1H30M', location: 'Europe/Istanbul' });
    assert.equal(job.path, 'feeds/check?x=1');
    assert.equal(job.body, 'user 1/ş#');
    assert.equal(job.interval, 'PT1H30M');
    assert.equal(job.location, 'Europe/Istanbul');
    assert.equal((await client.get('feeds/check?x=1', 'user 1/ş#'))?.body, 'user 1/ş#');
  });

  test('cron, one-off with a Date, immediate: each reaches the endpoint as scheduled', async () => {
    const cron = await client.schedule('reports', 'daily', { cron: '0 9 * * 1-5', location: 'UTC' });
    assert.equal(cron.cron, '0 9 * * 1-5');
    const at = new Date(Date.now() + 1_000);
    const once = await client.schedule('once', 'a', { oneOff: true, firstRun: at });
    assert.equal(once.one_off, true);
    assert.equal(Date.parse(once.next_run as string), at.getTime());
    await client.schedule('now', 'b', { interval: 3600, immediate: true });
    const [immediate] = await endpoint.waitFor((c) => c.path === '/now', 1, 5_000);
    assert.equal(immediate.body, 'b');
    const [fired] = await endpoint.waitFor((c) => c.path === '/once', 1, 5_000);
    assert.ok(fired.at >= at.getTime());
    const delayed = await client.schedule('later', 'c', { oneOff: true, interval: 120 });
    assert.equal(delayed.interval, 0);
    assert.ok(Math.abs(Date.parse(delayed.next_run as string) - Date.now() - 120_000) < 5_000);
  });

  test('disable, enable and trigger', async () => {
    await client.schedule('toggle', 'x', { interval: 3600 });
    const disabled = await client.disable('toggle', 'x');
    assert.equal(disabled.enabled, false);
    assert.equal(disabled.next_run, null);
    const enabled = await client.enable('toggle', 'x');
    assert.equal(enabled.enabled, true);
    const triggered = await client.trigger('toggle', 'x');
    assert.ok(Math.abs(Date.parse(triggered.next_run as string) - Date.now()) < 5_000);
    await endpoint.waitFor((c) => c.path === '/toggle', 1, 5_000);
  });

  test('list() iterates over every page, in order, under a prefix', async () => {
    for (let i = 0; i < 25; i++) await client.schedule('paged', `job-${String(i).padStart(2, '0')}`, { interval: 3600 });
    await client.schedule('pagedX', 'outside', { interval: 3600 });
    const seen: string[] = [];
    const pages: string[] = [];
    const counting = new DalgaClient({
      baseUrl: dalga.url,
      fetch: (input, init) => {
        pages.push(String(input));
        return fetch(input, init);
      },
    });
    for await (const job of counting.list({ path: 'paged', limit: 10 })) {
      if (job.path === 'paged') seen.push(job.body);
    }
    assert.equal(seen.length, 25);
    assert.deepEqual(seen, [...seen].sort());
    assert.ok(pages.length >= 3, `${pages.length} requests for 26 jobs at 10 a page`);
    assert.ok(
      pages.slice(1).every((url) => url.includes('cursor=')),
      'follows next_cursor',
    );
    const all: DalgaJob[] = [];
    for await (const job of client.list()) all.push(job);
    assert.ok(all.some((job) => job.path === 'pagedX'));
  });

  test('status()', async () => {
    const status = await client.status();
    assert.equal(status.state, 'ready');
    assert.equal(status.database, 'sqlite');
    assert.ok(status.total_jobs > 0);
  });

  test('errors are DalgaError with the HTTP status and the server message', async () => {
    const bad = await client.schedule('bad', 'x', { interval: 'soon' }).catch((error: unknown) => error);
    assert.ok(bad instanceof DalgaError);
    assert.equal(bad.status, 400);
    assert.match(bad.message, /^interval: /);
    const missing = await client.trigger('missing', 'x').catch((error: unknown) => error);
    assert.ok(missing instanceof DalgaError);
    assert.equal(missing.status, 404);
    assert.equal(missing.message, 'job not found');
    const tooLong = await client.get('x'.repeat(300), 'x').catch((error: unknown) => error);
    assert.ok(tooLong instanceof DalgaError, 'only 404 becomes null');
    assert.equal(tooLong.status, 400);
  });

  test('no answer: a DalgaError with status 0, after the timeout', async () => {
    const refused = new DalgaClient({ baseUrl: 'http://127.0.0.1:9' });
    const error = await refused.status().catch((e: unknown) => e);
    assert.ok(error instanceof DalgaError);
    assert.equal(error.status, 0);

    const silent = await EndpointServer.start(); // accepts, never answers
    silent.responder = () => ({ hang: true });
    try {
      const slow = new DalgaClient({ baseUrl: silent.baseUrl, timeoutMs: 200 });
      const started = Date.now();
      const timedOut = await slow.trigger('a', 'b').catch((e: unknown) => e);
      assert.ok(timedOut instanceof DalgaError);
      assert.equal(timedOut.status, 0);
      assert.match(timedOut.message, /no answer within 200 ms/);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await silent.close();
    }
  });
});

describe('DalgaClient with a token', () => {
  test('sends the bearer token; without it calls fail with 401', async () => {
    const db = createTestDatabase('sqlite');
    const token = 'client-test-token';
    const dalga = await DalgaProcess.start(writeConfig(db, `[listen]\ntoken = ${token}\n`), {
      readyHeaders: { authorization: `Bearer ${token}` },
    });
    try {
      const job = await new DalgaClient({ baseUrl: dalga.url, token }).schedule('secured', 'x', { interval: 60 });
      assert.equal(job.path, 'secured');
      const refused = await new DalgaClient({ baseUrl: dalga.url }).get('secured', 'x').catch((e: unknown) => e);
      assert.ok(refused instanceof DalgaError);
      assert.equal(refused.status, 401);
      assert.match(refused.message, /bearer token/);
    } finally {
      await dalga.stop();
      await db.drop();
    }
  });
});

describe('package exports', () => {
  test('"dalga/client" resolves to the built client', async (t) => {
    const resolved = import.meta.resolve('dalga/client');
    assert.match(resolved, /\/dist\/src\/client\/dalga-client\.js$/);
    const file = fileURLToPath(resolved);
    if (!existsSync(file)) {
      if (process.env.CI) assert.fail(`${file} is missing: the build (npm ci runs prepare) did not produce it`);
      t.skip('dist/ not built: run npm run build');
      return;
    }
    assert.ok(existsSync(file.replace(/\.js$/, '.d.ts')), 'type declarations are built alongside');
    const built = (await import(resolved)) as { DalgaClient?: unknown; DalgaError?: unknown };
    assert.equal(typeof built.DalgaClient, 'function');
    assert.equal(typeof built.DalgaError, 'function');
  });
});
