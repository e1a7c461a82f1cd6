/**
 * A job's identity: (path, body). Both are non-empty strings of at most 255 characters.
 *
 * The path ends up in a callback URL under the endpoint's baseurl, so anything that could make a
 * URL leave that base (dot segments, empty segments, schemes, backslashes, encoded separators,
 * control characters) is refused here, at PUT time. The callback builder checks again.
 */

export const MAX_KEY_CHARS = 255;

export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

/** Map key for (path, body); NUL cannot occur in either (rejected on input). */
export function jobKey(path: string, body: string): string {
  return `${path}\u0000${body}`;
}

export function splitJobKey(key: string): { path: string; body: string } {
  const at = key.indexOf('\u0000');
  return { path: key.slice(0, at), body: key.slice(at + 1) };
}

function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const ENCODED_SEPARATOR = /%(2e|2f|5c|00)/i;

function checkCommon(name: 'path' | 'body', value: string): void {
  if (value.length === 0) throw new InvalidKeyError(`${name}: must not be empty`);
  if (characterCount(value) > MAX_KEY_CHARS) {
    throw new InvalidKeyError(`${name}: longer than ${MAX_KEY_CHARS} characters`);
  }
  if (value.includes('\u0000')) throw new InvalidKeyError(`${name}: must not contain NUL`);
}

export function validatePath(path: string): void {
  checkCommon('path', path);
  if (CONTROL_CHARACTERS.test(path)) throw new InvalidKeyError('path: must not contain control characters');
  if (path.includes('\\')) throw new InvalidKeyError('path: must not contain a backslash');
  if (path.startsWith('/') || path.endsWith('/') || path.includes('//')) {
    throw new InvalidKeyError('path: must not start or end with "/" or contain "//"');
  }
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new InvalidKeyError('path: must not contain "." or ".." segments');
  }
  if (SCHEME_PREFIX.test(path) || path.startsWith('@')) {
    throw new InvalidKeyError('path: must not start with a URL scheme or "@"');
  }
  if (ENCODED_SEPARATOR.test(path)) {
    throw new InvalidKeyError('path: must not contain percent-encoded dots, slashes, backslashes or NUL');
  }
}

export function validateBody(body: string): void {
  checkCommon('body', body);
}
