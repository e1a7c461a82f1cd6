/**
 * Bad input gets a clear 4xx JSON error naming what is wrong; nothing is a 500, nothing crashes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import { startTestStack } from '../helpers/test-stack.js';

const CASES: [method: string, path: string, status: number, error: RegExp, body?: string][] = [
  ['PUT', '/jobs/p/b', 400, /interval: a periodic job needs interval or cron/],
  ['PUT', '/jobs/p/b?interval=abc', 400, /^interval: "abc" is not/],
  ['PUT', '/jobs/p/b?interval=0', 400, /^interval: "0" must be greater than zero/],
  ['PUT', '/jobs/p/b?interval=-5', 400, /^interval:/],
  ['PUT', '/jobs/p/b?interval=', 400, /^interval: must not be empty/],
  ['PUT', '/jobs/p/b?interval=60&interval=30', 400, /^interval: given more than once/],
  ['PUT', '/jobs/p/b?intervl=60', 400, /^unknown parameter "intervl"/],
  ['PUT', '/jobs/p/b?interval=60&one-off=maybe', 400, /^one-off: "maybe" is not a boolean/],
  ['PUT', '/jobs/p/b?one-off=true', 400, /^one-off: give exactly one of/],
  ['PUT', '/jobs/p/b?interval=60&one-off=true&immediate=true', 400, /^one-off: give exactly one of/],
  ['PUT', '/jobs/p/b?interval=60&cron=*%20*%20*%20*%20*', 400, /^cron: give either interval or cron/],
  ['PUT', '/jobs/p/b?cron=61%20*%20*%20*%20*', 400, /^cron:/],
  ['PUT', '/jobs/p/b?interval=60&immediate=true&first-run=2030-01-01T00:00:00Z', 400, /^immediate: cannot be combined with first-run/],
  ['PUT', '/jobs/p/b?interval=60&first-run=tomorrow', 400, /^first-run: "tomorrow" is not an RFC 3339 time/],
  ['PUT', '/jobs/p/b?interval=60&location=Mars/Olympus', 400, /^location:/],
  ['PUT', '/jobs/..%2Fadmin/b?interval=60', 400, /^path: must not contain "\." or "\.\." segments/],
  ['PUT', '/jobs/%2F%2Fevil.test/b?interval=60', 400, /^path: must not start or end with "\/"/],
  ['PUT', '/jobs/http%3A%2F%2Fevil.test/b?interval=60', 400, /^path:/],
  ['PUT', '/jobs/a%5Cb/b?interval=60', 400, /^path: must not contain a backslash/],
  ['PUT', '/jobs/%40evil.test/b?interval=60', 400, /^path: must not start with a URL scheme or "@"/],
  ['PUT', '/jobs/p/%FF?interval=60', 400, /^body: invalid percent-encoding or UTF-8/],
  ['PUT', '/jobs/%ZZ/b?interval=60', 400, /^path: invalid percent-encoding or UTF-8/],
  ['PUT', '/jobs/p/a%00b?interval=60', 400, /^body: must not contain NUL/],
  ['PUT', `/jobs/p/${'x'.repeat(256)}?interval=60`, 400, /^body: longer than 255 characters/],
  ['PUT', '/jobs/p/b', 400, /^interval: "nope" is not/, 'interval=nope'],
  ['PATCH', '/jobs/p/b', 404, /^job not found$/, 'disable=true'],
  ['POST', '/jobs/nope/nope', 404, /^job not found$/],
  ['GET', '/jobs/a/b/c', 404, /^no such resource: GET \/jobs\/a\/b\/c$/],
  ['PUT', '/jobs/only-path', 404, /^no such resource: PUT \/jobs\/only-path$/],
  ['GET', '/nowhere', 404, /^no such resource: GET \/nowhere$/],
  ['GET', '/jobs?limit=0', 400, /^limit: must be a whole number from 1 to 1000$/],
  ['GET', '/jobs?cursor=garbage', 400, /^cursor: not a cursor returned by GET \/jobs$/],
  ['GET', '/debug/wheel?level=99&slot=0', 400, /^level: must be a whole number/],
];

describe('bad input', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let dalga: DalgaProcess;

  before(async () => {
    stack = await startTestStack('sqlite', (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\n`);
    dalga = stack.dalga;
  });

  after(() => stack?.teardown());

  for (const [method, path, status, error, body] of CASES) {
    test(`${method} ${path.slice(0, 80)}${body ? ` (form: ${body})` : ''} -> ${status}`, async () => {
      const response = await dalga.request(method, path, {
        body,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      });
      assert.equal(response.status, status, response.text);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(response.json.error, error);
    });
  }

  test('parameters may come in a form body', async () => {
    const response = await dalga.request('PUT', '/jobs/form/b', {
      body: 'interval=90',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(response.status, 201);
    assert.equal(response.json.interval, 90);
  });

  test('an unsupported method on a job is 405 JSON', async () => {
    const response = await dalga.request('OPTIONS', '/jobs/p/b');
    assert.ok([200, 204, 405].includes(response.status));
    const bad = await dalga.request('PROPFIND', '/jobs/p/b');
    assert.equal(bad.status, 405);
    assert.deepEqual(bad.json, { error: 'method PROPFIND is not supported' });
    const wrong = await dalga.request('DELETE', '/status');
    assert.equal(wrong.status, 405);
    assert.match(wrong.json.error, /Method Not Allowed/i);
  });

  test('a body that does not decode as its Content-Encoding says is a 400', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const response = await dalga.request('PUT', '/jobs/enc/x', {
        body: 'interval=60 but not compressed',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
      });
      assert.equal(response.status, 400, `${encoding}: ${response.text}`);
      assert.match(response.json.error, new RegExp(`^body: cannot be read as ${encoding}`));
    }
    assert.equal((await dalga.request('GET', '/jobs/enc/x')).status, 404);
  });

  test('after all that the server still answers', async () => {
    assert.equal((await dalga.request('GET', '/healthz')).status, 200);
    assert.equal((await dalga.request('PUT', '/jobs/still/alive?interval=60')).status, 201);
  });
});
