/**
 * API token, signed callbacks, debug endpoints switched off, and secrets kept out of logs and /status.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess } from '../helpers/dalga-process.js';
import { createTestStack, type TestStack } from '../helpers/test-stack.js';

const TOKEN = 'tok-9f8e7d6c5b4a';
const SECRET = 'sig-0a1b2c3d4e5f';

describe('security settings', () => {
  let stack: TestStack;
  let dalga: DalgaProcess;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    stack = await createTestStack(
      'sqlite',
      (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\nsecret = ${SECRET}\n[listen]\ntoken = ${TOKEN}\ndebug = false\n`,
    );
    dalga = await DalgaProcess.start(stack.config, { readyHeaders: auth });
  });

  after(async () => {
    await dalga?.stop();
    await stack?.teardown();
  });

  test('every route but /healthz needs the bearer token: 401 JSON without it', async () => {
    assert.equal((await dalga.request('GET', '/healthz')).status, 200);
    for (const [method, path] of [
      ['PUT', '/jobs/a/b?interval=60'],
      ['GET', '/jobs/a/b'],
      ['GET', '/status'],
      ['GET', '/readyz'],
      ['GET', '/jobs'],
    ]) {
      const none = await dalga.request(method, path);
      assert.equal(none.status, 401, `${method} ${path}`);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.deepEqual(none.json, { error: 'authorization: missing or wrong bearer token' });
      const wrong = await dalga.request(method, path, { headers: { authorization: `Bearer ${TOKEN}x` } });
      assert.equal(wrong.status, 401);
    }
    assert.equal((await dalga.request('PUT', '/jobs/a/b?interval=60', { headers: auth })).status, 201);
    assert.equal((await dalga.request('GET', '/jobs/a/b', { headers: auth })).status, 200);
  });

  test('the console page and its scripts load without the token and carry no data', async () => {
    const page = await dalga.request('GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const status = (await dalga.request('GET', '/status', { headers: auth })).json as { instance_id: string };
    assert.ok(!page.text.includes(status.instance_id), 'no server data in the page');
    assert.equal((await dalga.request('GET', '/console/main.js')).status, 200);
    assert.equal((await dalga.request('PUT', '/console/main.js')).status, 401, 'only GET of the scripts is open');
  });

  test('callbacks carry a Dalga-Signature the endpoint can verify', async () => {
    await dalga.request('PUT', '/jobs/signed/payload-1?one-off=true&immediate=true', { headers: auth });
    const [callback] = await stack.endpoint.waitFor((c) => c.path === '/signed');
    const header = callback.headers['dalga-signature'] as string;
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    assert.ok(match, `signature header ${header}`);
    const t = Number(match[1]);
    assert.ok(Math.abs(t - Date.now() / 1000) < 30, 'fresh timestamp');
    const expected = createHmac('sha256', SECRET).update(`${t}.${callback.body}`).digest('hex');
    assert.equal(match[2], expected);
  });

  test('debug = false turns the debug endpoints off', async () => {
    assert.equal((await dalga.request('GET', '/debug/wheel', { headers: auth })).status, 404);
    assert.equal((await dalga.request('GET', '/debug', { headers: auth })).status, 404);
  });

  test('the token and the secret appear neither in the logs nor in /status', async () => {
    const status = await dalga.request('GET', '/status', { headers: auth });
    assert.equal(status.status, 200);
    assert.ok(!status.text.includes(TOKEN) && !status.text.includes(SECRET));
    assert.ok(!dalga.output.includes(TOKEN), 'token in logs');
    assert.ok(!dalga.output.includes(SECRET), 'secret in logs');
  });
});
