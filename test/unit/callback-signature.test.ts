import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { callbackSignature } from '../../src/dispatch/callback-signature.js';

test('Dalga-Signature is t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
  const expected = createHmac('sha256', 's3cret').update('1700000000.1234').digest('hex');
  assert.equal(callbackSignature('s3cret', '1234', 1_700_000_000), `t=1700000000,v1=${expected}`);
  assert.notEqual(callbackSignature('other', '1234', 1_700_000_000), callbackSignature('s3cret', '1234', 1_700_000_000));
  assert.notEqual(callbackSignature('s3cret', '1234', 1_700_000_001), callbackSignature('s3cret', '1234', 1_700_000_000));
});
