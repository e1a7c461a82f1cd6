import { createHmac } from 'node:crypto';

/**
 * Dalga-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, so an endpoint
 * can check that a callback comes from its Dalga and is fresh (reject an old `t` to stop replays).
 */
export function callbackSignature(secret: string, body: string, unixSeconds: number): string {
  const digest = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${digest}`;
}
