import type { Context } from 'koa';
import { HttpError } from './http-error.js';

/**
 * A route's parameters: from the query string, and from a request body that is an
 * application/x-www-form-urlencoded form or a JSON object, with the same names and the same checks.
 *
 * Invariants:
 * - A name given twice (in the query, the body, or one in each) is an error, so that
 *   `interval=1&interval=2` is never silently read one way.
 * - JSON values become the text the query string would carry (60 -> "60", true -> "true"), so that
 *   every value meets the same parser whichever way it came; null, arrays and objects are refused
 *   by name rather than turned into "null" or "[object Object]".
 * - The body is judged only here, by routes that read parameters: routes that take none (the POST
 *   trigger, DELETE) ignore any body, as the original Dalga did. A body in a type this cannot read
 *   is a 415, never read as "no parameters" (which would surface as a misleading 400 such as "a
 *   periodic job needs interval or cron").
 */

/** The body types parameters may come in, as the 415 lists them. */
export const PARAMETER_BODY_TYPES = ['application/x-www-form-urlencoded', 'application/json'] as const;

/** What the body middleware (http-app.ts) found in a request, decoded but not yet judged. */
export type RequestBody =
  | { kind: 'none' }
  /** A form, as the body parser's `qs` read it. */
  | { kind: 'form'; fields: Record<string, unknown> }
  /** Any JSON value: an object of parameters is expected. */
  | { kind: 'json'; value: unknown }
  /** Declared as JSON, but it is not (the parser's reason). */
  | { kind: 'invalid-json'; reason: string }
  /** A non-empty body of another type, not read. */
  | { kind: 'unsupported'; contentType: string | null };

const bodies = new WeakMap<Context['request'], RequestBody>();

/** Called by the body middleware, once per request. */
export function setRequestBody(ctx: Context, body: RequestBody): void {
  bodies.set(ctx.request, body);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The text a query string would carry for a JSON value; null, arrays and objects have none. */
function jsonText(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new HttpError(400, `${name}: must be a JSON string, number or boolean, not ${describeJson(value)}`);
}

/**
 * The body's parameters as (name, value) pairs, values still as the body gave them (form values are text, JSON values
 * any JSON), or the error that says why the body cannot give any.
 */
function bodyEntries(body: RequestBody): [string, unknown][] {
  switch (body.kind) {
    case 'none':
      return [];
    case 'unsupported':
      throw new HttpError(
        415,
        `request body: ${body.contentType === null ? 'a body without Content-Type' : `Content-Type "${body.contentType}"`} is not supported; ` +
          `send parameters in the query string or in a body of type ${PARAMETER_BODY_TYPES.join(' or ')}`,
      );
    case 'invalid-json':
      throw new HttpError(400, `request body: not valid JSON (${body.reason}); expected an object such as {"interval":"PT1H"}`);
    case 'form': {
      const entries: [string, unknown][] = [];
      for (const [name, value] of Object.entries(body.fields)) {
        for (const item of Array.isArray(value) ? value : [value]) entries.push([name, String(item)]);
      }
      return entries;
    }
    case 'json': {
      const { value } = body;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new HttpError(400, `request body: must be a JSON object of parameters such as {"interval":"PT1H"}, not ${describeJson(value)}`);
      }
      return Object.entries(value);
    }
  }
}

/**
 * Parameters from the query string and the body, checked against the names a route knows.
 * @throws HttpError 400 for an unknown name (unless `ignoreUnknown`), a repeated name, a JSON value
 *   that is not a string, number or boolean, or a body that is not a JSON object; 415 for a body of
 *   another type.
 */
export function requestParams<N extends string>(
  ctx: Context,
  known: readonly N[],
  options: { ignoreUnknown?: boolean } = {},
): Partial<Record<N, string>> {
  const params: Partial<Record<N, string>> = {};
  const fromBody = bodyEntries(bodies.get(ctx.request) ?? { kind: 'none' });
  const given: [string, unknown][] = [...new URLSearchParams(ctx.querystring).entries(), ...fromBody];
  for (const [name, value] of given) {
    // The name first: "colour" is an unknown parameter whatever its value.
    if (!(known as readonly string[]).includes(name)) {
      if (options.ignoreUnknown) continue;
      throw new HttpError(400, `unknown parameter "${name}" (known: ${known.join(', ') || 'none'})`);
    }
    if (params[name as N] !== undefined) throw new HttpError(400, `${name}: given more than once`);
    params[name as N] = typeof value === 'string' ? value : jsonText(name, value);
  }
  return params;
}
