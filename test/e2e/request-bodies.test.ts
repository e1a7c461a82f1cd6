/**
 * Where parameters come from, end to end (SQLite and MariaDB): the query string, a form body, or a
 * JSON object body, with the same names and checks. JSON numbers and booleans are read as the
 * query string would carry them; null, arrays and objects are a 400 naming the parameter; a body
 * that is not a JSON object is a 400 saying so; a body of any other type is a 415 listing the
 * accepted ones. Requests without a body work whatever their Content-Type, and the POST trigger
 * ignores any body.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { DalgaProcess, JsonResponse } from '../helpers/dalga-process.js';
import { rawHttp, rawJson } from '../helpers/raw-http.js';
import { startTestStack } from '../helpers/test-stack.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const ACCEPTED = /application\/x-www-form-urlencoded or application\/json/;

/** The fields of a job's JSON that do not depend on when or where it was put. */
function schedule(json: Record<string, unknown>) {
  const { path: _path, body: _body, job: _job, next_run, next_sched, anchor, created_at, updated_at, ...rest } = json;
  const created = Date.parse(created_at as string);
  return {
    ...rest,
    next_run_after_created: next_run === null ? null : Date.parse(next_run as string) - created,
    next_sched_after_created: Date.parse(next_sched as string) - created,
    anchor_after_created: Date.parse(anchor as string) - created,
    updated_is_created: updated_at === created_at,
  };
}

for (const kind of ['sqlite', 'mysql'] as DatabaseKind[]) {
  describe(`request bodies (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let dalga: DalgaProcess;
    let port: number;

    const json = (method: string, path: string, body: unknown): Promise<JsonResponse> =>
      dalga.request(method, path, { body: JSON.stringify(body), headers: JSON_TYPE });

    /** A request sent byte for byte: a GET with a body, or a body without Content-Type, which fetch cannot send. */
    async function raw(method: string, path: string, headers: string[], body = '') {
      const head = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...headers];
      if (body !== '') head.push(`Content-Length: ${Buffer.byteLength(body)}`);
      const response = await rawHttp(port, Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`), 10_000);
      return { status: response.status, json: rawJson(response) };
    }

    before(async () => {
      stack = await startTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\n`);
      dalga = stack.dalga;
      port = Number(new URL(dalga.url).port);
    });

    after(() => stack?.teardown());

    test('a JSON PUT creates the same job as the query string', async () => {
      const query = await dalga.request('PUT', '/jobs/query/1?interval=PT1H&location=Europe/Istanbul');
      const body = await json('PUT', '/jobs/json/1', { interval: 'PT1H', location: 'Europe/Istanbul' });
      assert.equal(query.status, 201, query.text);
      assert.equal(body.status, 201, body.text);
      assert.deepEqual(Object.keys(body.json), Object.keys(query.json), 'the same fields in the same order');
      assert.deepEqual(schedule(body.json), schedule(query.json));
      assert.equal(body.json.interval, 'PT1H');
      assert.equal(body.json.location, 'Europe/Istanbul');
      assert.equal(schedule(body.json).next_run_after_created, 3_600_000);
      const stored = await dalga.request('GET', '/jobs/json/1');
      assert.equal(stored.status, 200);
      assert.deepEqual(stored.json, body.json);
    });

    test('JSON numbers and booleans read as the query string would carry them', async () => {
      const oneOff = await json('PUT', '/jobs/json/numbers', { interval: 60, 'one-off': true });
      assert.equal(oneOff.status, 201, oneOff.text);
      assert.equal(oneOff.json.interval, 0, 'a one-off job echoes interval 0, as with ?interval=60&one-off=true');
      assert.equal(oneOff.json.one_off, true);
      assert.equal(schedule(oneOff.json).next_run_after_created, 60_000);

      const periodic = await json('PUT', '/jobs/json/seconds', { interval: 90, 'one-off': false, location: 'UTC' });
      assert.equal(periodic.status, 201, periodic.text);
      assert.equal(periodic.json.interval, 90, 'seconds given as a number echo as a number');
      assert.equal(periodic.json.one_off, false);

      // interval 0 on a one-off is "now" (the 2014 API), as one-off=true&immediate=true.
      const now = await json('PUT', '/jobs/json/now', { interval: 0, 'one-off': 'true' });
      assert.equal(now.status, 201, now.text);
      assert.equal(now.json.interval, 0);
      assert.equal(schedule(now.json).next_run_after_created, 0);
      const zero = await json('PUT', '/jobs/json/zero', { interval: 0 });
      assert.equal(zero.status, 400);
      assert.equal(zero.json.error, 'interval: "0" must be greater than zero');

      const disabled = await json('PATCH', '/jobs/json/seconds', { disable: true });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(disabled.json.enabled, false);
      const enabled = await json('PATCH', '/jobs/json/seconds', { enable: 1 });
      assert.equal(enabled.status, 200, enabled.text);
      assert.equal(enabled.json.enabled, true);
    });

    test('GET /jobs reads a JSON body too', async () => {
      const page = await raw('GET', '/jobs', ['Content-Type: application/json'], JSON.stringify({ path: 'js', limit: 1 }));
      assert.equal(page.status, 200, JSON.stringify(page.json));
      const jobs = page.json?.jobs as { path: string }[];
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0].path, 'json', 'only paths under the prefix');
      assert.equal(typeof page.json?.next_cursor, 'string');
    });

    test('a JSON value that is null, an array or an object is a 400 naming the parameter', async () => {
      const cases: [unknown, RegExp][] = [
        [{ interval: null }, /^interval: must be a JSON string, number or boolean, not null$/],
        [{ interval: [60] }, /^interval: must be a JSON string, number or boolean, not an array$/],
        [{ interval: 60, location: { name: 'UTC' } }, /^location: must be a JSON string, number or boolean, not an object$/],
        [{ interval: 60, 'one-off': null }, /^one-off: must be a JSON string, number or boolean, not null$/],
        // Then the same checks as the query string.
        [{ interval: 1.5 }, /^interval: "1.5" is not a whole number of seconds/],
        [{ interval: 60, immediate: 'maybe' }, /^immediate: "maybe" is not a boolean/],
        [{ colour: 'blue' }, /^unknown parameter "colour"/],
        [{ colour: null }, /^unknown parameter "colour"/],
      ];
      for (const [body, error] of cases) {
        const response = await json('PUT', '/jobs/bad/values', body);
        assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
        assert.match(response.json.error, error, JSON.stringify(body));
      }
      const twice = await dalga.request('PUT', '/jobs/bad/values?interval=60', { body: '{"interval":60}', headers: JSON_TYPE });
      assert.equal(twice.status, 400);
      assert.equal(twice.json.error, 'interval: given more than once');
      assert.equal((await dalga.request('GET', '/jobs/bad/values')).status, 404, 'nothing was created');
    });

    test('a body that is not a JSON object is a 400 saying so', async () => {
      const cases: [string, RegExp][] = [
        ['[{"interval":60}]', /^request body: must be a JSON object of parameters .*, not an array$/],
        ['"PT1H"', /^request body: must be a JSON object of parameters .*, not a string$/],
        ['60', /^request body: must be a JSON object of parameters .*, not a number$/],
        ['null', /^request body: must be a JSON object of parameters .*, not null$/],
        ['{"interval":', /^request body: not valid JSON \(.+\); expected an object/],
        ['interval=60', /^request body: not valid JSON/],
      ];
      for (const [body, error] of cases) {
        const response = await dalga.request('PUT', '/jobs/bad/json', { body, headers: JSON_TYPE });
        assert.equal(response.status, 400, `${body}: ${response.text}`);
        assert.match(response.json.error, error, body);
      }
      assert.equal((await dalga.request('GET', '/jobs/bad/json')).status, 404);
    });

    test('a body of another type is a 415 listing the accepted types', async () => {
      for (const contentType of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/vnd.api+json']) {
        const response = await dalga.request('PUT', '/jobs/bad/type', { body: 'interval=60', headers: { 'content-type': contentType } });
        assert.equal(response.status, 415, `${contentType}: ${response.text}`);
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
        assert.match(response.json.error, ACCEPTED, contentType);
        assert.ok(response.json.error.includes(`"${contentType}"`), `names the type sent: ${response.json.error}`);
      }
      const untyped = await raw('PUT', '/jobs/bad/type', [], 'interval=60');
      assert.equal(untyped.status, 415);
      assert.match(String(untyped.json?.error), /^request body: a body without Content-Type is not supported/);
      assert.match(String(untyped.json?.error), ACCEPTED);
      const patch = await dalga.request('PATCH', '/jobs/json/1', { body: 'disable=true', headers: { 'content-type': 'text/plain' } });
      assert.equal(patch.status, 415);
      assert.equal((await dalga.request('GET', '/jobs/bad/type')).status, 404);
      assert.equal((await dalga.request('GET', '/jobs/json/1')).json.enabled, true, 'the PATCH changed nothing');
    });

    test('requests without a body work whatever their Content-Type', async () => {
      const put = await dalga.request('PUT', '/jobs/nobody/1?interval=60', { headers: { 'content-type': 'text/plain' } });
      assert.equal(put.status, 201, put.text);
      const empty = await dalga.request('PUT', '/jobs/nobody/2?interval=60', { body: '', headers: JSON_TYPE });
      assert.equal(empty.status, 201, empty.text);
      const trigger = await raw('POST', '/jobs/nobody/1', []);
      assert.equal(trigger.status, 200, JSON.stringify(trigger.json));
      assert.equal(trigger.json?.path, 'nobody');
    });

    test('the POST trigger ignores parameters and any body', async () => {
      const response = await dalga.request('POST', '/jobs/nobody/2?interval=5', { body: 'run it', headers: { 'content-type': 'text/plain' } });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.interval, 60);
    });

    test('a form body still works, within the same limit', async () => {
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const put = await dalga.request('PUT', '/jobs/form/1', { body: 'interval=PT1H&location=Europe%2FIstanbul', headers: form });
      assert.equal(put.status, 201, put.text);
      assert.deepEqual(schedule(put.json), schedule((await dalga.request('GET', '/jobs/query/1')).json));
      const patch = await dalga.request('PATCH', '/jobs/form/1', { body: `disable=true&x=${'x'.repeat(70_000)}`, headers: form });
      assert.equal(patch.status, 413, patch.text);
    });

    test('JSON bodies keep the size limit and the Content-Encoding handling', async () => {
      const big = await json('PUT', '/jobs/big/json', { interval: 60, location: 'x'.repeat(70_000) });
      assert.equal(big.status, 413, big.text);
      const gzipped = await fetch(`${dalga.url}/jobs/gzip/json`, {
        method: 'PUT',
        body: gzipSync(JSON.stringify({ interval: 'PT5M' })),
        headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
      });
      assert.equal(gzipped.status, 201);
      assert.equal(((await gzipped.json()) as { interval: unknown }).interval, 'PT5M');
      const garbage = await dalga.request('PUT', '/jobs/gzip/garbage', {
        body: '{"interval":60}',
        headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
      });
      assert.equal(garbage.status, 400, garbage.text);
      assert.match(garbage.json.error, /^body: cannot be read as gzip/);
    });
  });
}
