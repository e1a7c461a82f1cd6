/**
 * Log lines as an operator's collector (JSON) or a person at a terminal (pretty) sees them, and
 * the redact net under "a secret never reaches the log".
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/log/logger.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createLogger', () => {
  test('JSON lines with level, ISO time, message and the job key', async () => {
    const out = capture();
    const log = createLogger({ debug: false, destination: out.stream });
    log.info({ job: { path: 'check_feed', body: '1234' } }, 'callback');
    await tick();
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    assert.equal(line.level, 30);
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line.msg, 'callback');
    assert.deepEqual(line.job, { path: 'check_feed', body: '1234' });
  });

  test('debug lines only with -debug', async () => {
    const quiet = capture();
    createLogger({ debug: false, destination: quiet.stream }).debug('hidden');
    const verbose = capture();
    createLogger({ debug: true, destination: verbose.stream }).debug('shown');
    await tick();
    assert.equal(quiet.text(), '');
    assert.equal((JSON.parse(verbose.text()) as { level: number }).level, 20);
  });

  test('pretty mode prints human-readable lines, not JSON', async () => {
    const out = capture();
    const log = createLogger({ debug: false, destination: out.stream, pretty: true });
    log.info({ job: { path: 'check_feed', body: '1234' } }, 'callback done');
    await tick();
    const text = out.text();
    assert.match(text, /INFO/);
    assert.match(text, /callback done/);
    assert.match(text, /check_feed/);
    assert.throws(() => JSON.parse(text.trim()), 'not a JSON line');
  });

  test('passwords are redacted at every depth the code logs objects', async () => {
    const out = capture();
    const log = createLogger({ debug: false, destination: out.stream });
    const secret = 'hunter2-very-secret';
    log.info({ password: secret }, 'flat');
    log.info({ mysql: { host: 'db', password: secret } }, 'one level');
    log.info({ config: { database: { kind: 'mysql', password: secret } } }, 'two levels');
    log.info({ a: { b: { c: { password: secret } } } }, 'three levels');
    await tick();
    const text = out.text();
    assert.equal(text.split('\n').filter(Boolean).length, 4);
    assert.ok(!text.includes(secret), text);
    assert.equal(text.match(/\[redacted\]/g)?.length, 4);
    assert.match(text, /"host":"db"/, 'the rest of the object is kept');
  });
});
