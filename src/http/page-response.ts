import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Answers with one of the server's own HTML pages (the console, the wheel view) under a strict
 * CSP: a fresh nonce per response for its scripts and styles (module imports inherit it), fetches
 * to this origin only, nothing framed, no forms sent anywhere.
 */
export function sendPage(ctx: Context, html: (nonce: string) => string): void {
  const nonce = randomBytes(16).toString('base64');
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html(nonce);
}
