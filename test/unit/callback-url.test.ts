import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callbackUrl, UnsafeCallbackUrlError } from '../../src/dispatch/callback-url.js';
import { InvalidKeyError, validateBody, validatePath } from '../../src/jobs/job-key.js';

const base = new URL('http://127.0.0.1:5000/hooks/');

describe('callback URL', () => {
  const safe: [string, string][] = [
    ['check_feed', 'http://127.0.0.1:5000/hooks/check_feed'],
    ['feeds/check', 'http://127.0.0.1:5000/hooks/feeds/check'],
    ['a b', 'http://127.0.0.1:5000/hooks/a%20b'],
    ['a?b#c', 'http://127.0.0.1:5000/hooks/a%3Fb%23c'],
    ['user@host', 'http://127.0.0.1:5000/hooks/user%40host'],
    ['100%', 'http://127.0.0.1:5000/hooks/100%25'],
    ['ünï', 'http://127.0.0.1:5000/hooks/%C3%BCn%C3%AF'],
  ];
  for (const [path, expected] of safe) {
    test(`stays under the base: ${JSON.stringify(path)}`, () => {
      assert.equal(callbackUrl(base, path).href, expected);
    });
  }

  const hostile = [
    '..',
    'a/../../x',
    './x',
    '//evil.test/x',
    '/abs',
    'x/',
    '@evil.test',
    'http://evil.test',
    'javascript:alert(1)',
    'a\\..\\b',
    '%2e%2e',
    '%2E%2e/x',
    'a%2fb',
    '%5c',
    'a\r\nHost: evil',
    'nul\u0000',
  ];
  for (const path of hostile) {
    test(`refuses ${JSON.stringify(path)} at PUT and when building the URL`, () => {
      assert.throws(() => validatePath(path), InvalidKeyError);
      assert.throws(() => callbackUrl(base, path), UnsafeCallbackUrlError);
    });
  }

  test('keys are non-empty and at most 255 characters (counted as characters, not bytes)', () => {
    assert.throws(() => validatePath(''), /path: must not be empty/);
    assert.throws(() => validateBody(''), /body: must not be empty/);
    assert.throws(() => validateBody('x'.repeat(256)), /body: longer than 255 characters/);
    validateBody('ü'.repeat(255));
    validateBody('😀'.repeat(255));
    assert.throws(() => validateBody('😀'.repeat(256)), /longer than 255/);
  });
});
