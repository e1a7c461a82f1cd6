import type { Context } from 'koa';
import { HttpError } from './http-error.js';

/**
 * Parameters from the query string and from an application/x-www-form-urlencoded body, checked
 * against the names a route knows. A name given twice (in either place) is an error, so that
 * `interval=1&interval=2` is never silently read one way.
 */
export function requestParams<N extends string>(
  ctx: Context,
  known: readonly N[],
  options: { ignoreUnknown?: boolean } = {},
): Partial<Record<N, string>> {
  const params: Partial<Record<N, string>> = {};
  const given = [...new URLSearchParams(ctx.querystring).entries()];
  const form = (ctx.request as { body?: unknown }).body;
  if (form && typeof form === 'object') {
    for (const [name, value] of Object.entries(form as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) given.push([name, String(item)]);
    }
  }
  for (const [name, value] of given) {
    if (!(known as readonly string[]).includes(name)) {
      if (options.ignoreUnknown) continue;
      throw new HttpError(400, `unknown parameter "${name}" (known: ${known.join(', ') || 'none'})`);
    }
    if (params[name as N] !== undefined) throw new HttpError(400, `${name}: given more than once`);
    params[name as N] = value;
  }
  return params;
}
