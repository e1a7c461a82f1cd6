import zlib from 'node:zlib';
import type { SeededRandom } from './seeded-random.js';

/**
 * Generated HTTP requests for fuzzing Dalga's API, as raw bytes: every method (and junk ones),
 * every route, hostile path segments (invalid percent-encoding, invalid UTF-8, NUL, dot segments,
 * over-long ones, SQL metacharacters, URL tricks aimed at an "attacker" host), random parameters
 * with hostile values, form bodies, bodies up to 1 MB and oversized headers.
 *
 * Strings here are "byte strings": each character is one byte (latin1), so a segment can hold
 * bytes that are not valid UTF-8 and reach the server exactly as written.
 */

export const API_METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

/** Methods Node parses but the API does not serve, and ones no HTTP parser knows. */
const OTHER_METHODS = [
  'CONNECT',
  'PROPFIND',
  'TRACE',
  'MKCOL',
  'SEARCH',
  'PURGE',
  'LINK',
  'REPORT',
  'FOO',
  'get',
  'G\u00ffT',
  'GET GET',
  'X'.repeat(300),
];

/** Node's limit on the request line plus headers (the server sets maxHeaderSize to 16 KB). */
const HEADER_LIMIT = 16_384;
/** Dalga's form body limit is 64 KB; above it the answer may come before the body is read. */
const FORM_LIMIT = 64 * 1024;

/** A job key a worker owns: only that worker sends requests for it, so its answers tell the key's state. */
export interface PoolKey {
  path: string;
  body: string;
}

export interface FuzzRequest {
  bytes: Buffer;
  /** Method, target and notes, escaped and shortened: what a failure report shows. */
  label: string;
  method: string;
  /** Oversized or an upgrade: the server may close the connection without an answer. */
  mayDrop: boolean;
  /** Set when the request names a pool key through a well-formed /jobs/<path>/<body>. */
  key?: PoolKey;
}

/** Hostile raw path segments. `authority` is host:port of the attacker server. */
export function hostileSegments(authority: string): string[] {
  const [host, port] = authority.split(':');
  return [
    '..',
    '.',
    '%2e%2e',
    '%2E%2E',
    '.%2e',
    '%2e.',
    '%2e',
    '..%2F..%2F..%2Fetc%2Fpasswd',
    'a%2F..%2F..%2F%2F' + authority,
    '%2F%2F' + authority,
    '%2F%2F' + authority + '%2Fx',
    '%2F' + authority,
    authority + '%2F',
    '%40' + authority,
    'x%40' + authority,
    '@' + authority,
    'user:pass@' + authority,
    authority,
    authority + '%2Fx',
    'http:%2F%2F' + authority,
    'http%3A%2F%2F' + authority + '%2Fx',
    'HTTP:' + authority,
    'https:%2F%2F' + authority,
    'http:' + authority,
    '%5C%5C' + authority + '%5Cx',
    '%5C' + authority,
    '%2F%5C' + authority,
    '%5C%2F' + authority,
    'a%5C..%5C..%5C' + authority,
    '%252e%252e%252f' + authority,
    '%252F%252F' + authority,
    '%255C%255C' + authority,
    '%2540' + authority,
    'http%253A%252F%252F' + authority,
    '%C0%AE%C0%AE%2F' + authority,
    '%EF%BC%8E%EF%BC%8E%2F%2F' + authority,
    '%E2%80%A4%E2%80%A4%2F' + authority,
    '%0D%0AHost:%20' + authority,
    '%09%2F%2F' + authority,
    '%20%2F%2F' + authority,
    '%3F%2F%2F' + authority,
    '%23%2F%2F' + authority,
    'x%3F%40' + authority,
    'x%23%40' + authority,
    'localhost:' + port,
    '[::1]:' + port,
    '%5B%3A%3A1%5D:' + port,
    '%5B%3A%3Affff%3A' + host + '%5D:' + port,
    '0x7f000001:' + port,
    '2130706433:' + port,
    'javascript:alert(1)',
    'file:%2F%2F%2Fetc%2Fpasswd',
    'data:text%2Fplain,x',
    'mailto:a@' + authority,
  ];
}

/** Segments that break percent-decoding, UTF-8, length limits or the request line itself. */
const BROKEN_SEGMENTS = [
  '%',
  '%%',
  '%G0',
  '%e',
  '%ZZ',
  '%2',
  '%C3',
  '%FF',
  '%FF%FE',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%C0%80',
  '%E0%80%AF',
  '%00',
  'a%00b',
  '%0D%0A',
  '%09',
  '%7F',
  '%E2%80%A8',
  '%EF%BB%BF',
  '%25',
  '%2525',
  '%u0041',
  'x'.repeat(255),
  'x'.repeat(256),
  '%F0%9F%98%80'.repeat(255),
  '%F0%9F%98%80'.repeat(256),
  'a'.repeat(4_000),
  "'%20OR%201=1--",
  '%27%3B%20DROP%20TABLE%20jobs%3B--',
  '%22%3B%20DELETE%20FROM%20dalga%3B',
  '%60',
  '%5C%27',
  '*',
  '~',
  '%7E',
  ';',
  '%3B',
  '=',
  '&',
  '%26',
  '+',
  '$',
  ',',
  '(',
  ')',
  '!',
  "'",
  '\u00ff',
  '\u00c3\u00bc',
  '\u0000',
  'a\u0000b',
  '\u0080',
  '\u00fe\u00ff',
  'a b',
  '\t',
  '\r\n',
  '"',
  '<',
  '>',
  '{',
  '}',
  '|',
  '^',
  '`',
];

/** Texts a job key may legitimately hold: the server must store and return them unchanged. */
const KEY_TEXTS = [
  'plain',
  'a/b/c',
  'deep/er/and/deeper/path',
  'ünïcødé/路径',
  '😀😀😀',
  "'; DROP TABLE jobs; --",
  '" OR "1"="1',
  'back`tick',
  '%41%42',
  'semi;colon,comma=eq&amp',
  'sp ace',
  'q?mark#hash',
  "tilde~!*()'",
  'line\u2028sep',
  ':colon',
  'x:y',
  '100%',
  'under_score',
  'percent%zz',
  'NULL',
  '{"json":1}',
  '<script>alert(1)</script>',
  '\\back\\slash',
  '../../up',
  '//double',
  'trailing/',
  'café',
  'ß',
  'İ',
  '\u00a0nbsp',
];

const INTERVALS = ['60', '3600', '1', '2', '5', 'PT1S', 'PT0.5S', 'PT1H30M', 'P1D', 'P1W', 'P1M', 'P1Y2M3DT4H5M6S', 'pt5s', ' 60 ', '0060', '86400'];
const CRONS = [
  '* * * * *',
  '*/5 * * * * *',
  '0 0 29 2 *',
  '0 0 * * 5#5',
  '0 0 L 2 *',
  '30 2 * * *',
  '0 9-17 * * MON-FRI',
  '0 0 1 1 *',
  '0 0 ? * SUN',
];
const ZONES = [
  'UTC',
  'Europe/Istanbul',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Pacific/Kiritimati',
  'Etc/GMT+12',
  'utc',
  'America/New_York',
];

/** Values no parameter should accept, or should accept only with care. */
const HOSTILE_VALUES = [
  '',
  ' ',
  '-1',
  '0',
  '-0',
  '1e309',
  '99999999999999999999999999',
  '9007199254740993',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '١٢',
  'true',
  'false',
  'yes',
  'off',
  'maybe',
  'null',
  'undefined',
  '[]',
  '{}',
  "'; DROP TABLE jobs; --",
  '" OR 1=1',
  '%00',
  '\u0000',
  '../../etc/passwd',
  'Mars/Olympus',
  '+02:00',
  'Europe/Berlin\u0000',
  'A'.repeat(64),
  'A'.repeat(65),
  'x'.repeat(10_000),
  'P',
  'PT',
  'P1DT',
  'P-1D',
  'PT-5S',
  'P9999999Y',
  'PT0S',
  'P0D',
  'PT0.0001S',
  'P1.5D',
  '-P1D',
  '@daily',
  'H * * * *',
  '60 * * * *',
  '* * * * * * *',
  '*/0 * * * *',
  '5-1 * * * *',
  '0 0 30 2 *',
  '0 0 31 4 *',
  'L L L L L',
  '* * * * 8',
  '*/1000000 * * * *',
  '0-59/1 0-23 1-31 1-12 0-7',
  '0 0 1W * *',
  '* * * * 7L',
  'a b c d e',
  '😀 * * * *',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999Z',
  '1970-01-01T00:00:00Z',
  '2038-01-19T03:14:08Z',
  '2026-02-29T00:00:00Z',
  '2024-02-29T23:59:59+23:59',
  '2024-13-01T00:00:00Z',
  '2016-12-31T23:59:60Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01 00:00:00',
  '2026-01-01T00:00:00+25:00',
  '20260101T000000Z',
  'tomorrow',
  'WyJhIiwiYiJd',
  'not-a-cursor',
  'W10',
  'WyJhIl0',
  '1001',
  '1000',
  '99',
  '64',
  '63',
  '-5',
];

const PARAM_NAMES = [
  'interval',
  'cron',
  'one-off',
  'first-run',
  'immediate',
  'location',
  'disable',
  'enable',
  'path',
  'limit',
  'cursor',
  'next',
  'level',
  'slot',
];
const JUNK_PARAM_NAMES = [
  'intervl',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  '=',
  '%00',
  'a[b]',
  'interval[]',
  'interval[0]',
  'x'.repeat(300),
  'ONE-OFF',
  'Interval',
];

const OTHER_ROUTES = [
  '/status',
  '/debug/wheel',
  '/debug',
  '/metrics',
  '/healthz',
  '/readyz',
  '/openapi.json',
  '/jobs',
  '/',
  '/jobs/',
  '/jobs/x',
  '/jobs/a/b/c',
  '//',
  '/%2e%2e/',
  '/../../etc/passwd',
  '/jobs/../status',
  '/jobs/%2e%2e/status',
  '//jobs/a/b',
  '/JOBS/a/b',
  '/jobs/a/b/',
  '/jobs//a/b',
  '/jobs/a//b',
  '/%6Aobs/a/b',
  '/status/',
  '/debug/wheel/',
  '/metrics%00',
  '*',
  '/debug/../status',
];

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/x-www-form-urlencoded; charset=utf-16',
  'application/x-www-form-urlencoded; charset=bogus',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded\u00ff',
  '',
  ';;;',
  'application/*',
];

/** Percent-encodes a (UTF-8) text the way clients vary it: upper- or lower-case hex, unreserved characters sometimes encoded too. */
function encodeSegment(text: string, rng: SeededRandom): string {
  let out = encodeURIComponent(text);
  if (rng.chance(0.2)) out = out.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  if (rng.chance(0.2)) {
    out = out.replace(/%[0-9A-Fa-f]{2}|[A-Za-z0-9]/g, (c) =>
      c.length === 1 && rng.chance(0.3) ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c,
    );
  }
  // Sub-delimiters may be sent raw in a path segment; decoding once gives the same text.
  if (rng.chance(0.2)) out = out.replace(/%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g, (hex) => String.fromCharCode(parseInt(hex.slice(1), 16)));
  return out;
}

/** A byte string's bytes. */
function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** A byte-string segment as the server decodes it (percent-decoded UTF-8); null if it does not decode. */
function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(Buffer.from(segment, 'latin1').toString('utf8'));
  } catch {
    return null;
  }
}

/** UTF-8 text as a byte string. */
function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function labelOf(method: string, target: string, notes: string[]): string {
  const shown = JSON.stringify(`${method} ${target}`);
  return `${shown.length > 220 ? `${shown.slice(0, 220)}…"` : shown}${notes.length ? ` [${notes.join(', ')}]` : ''}`;
}

export class FuzzRequestGenerator {
  private readonly hostile: string[];

  constructor(
    private readonly rng: SeededRandom,
    private readonly options: { host: string; attackerAuthority: string },
  ) {
    this.hostile = hostileSegments(options.attackerAuthority);
  }

  /** `count` keys for worker `worker`: hostile-but-valid texts made unique by a worker tag, some of them over-long. */
  poolKeys(worker: number, count: number): PoolKey[] {
    const keys: PoolKey[] = [];
    for (let i = 0; i < count; i++) {
      const tag = `~w${worker}k${i}`;
      let body = `${this.rng.pick(KEY_TEXTS)}${tag}`;
      // Exactly 255 characters (the limit) and 256 (one over), counted in code points.
      if (i % 6 === 1) body = '😀'.repeat(255 - tag.length) + tag;
      if (i % 6 === 4) body = 'é'.repeat(256 - tag.length) + tag;
      keys.push({ path: this.rng.pick(KEY_TEXTS), body });
    }
    return keys;
  }

  /** A request for one of `pool`'s keys, usually a sensible one, with valid or hostile parameters. */
  forKey(key: PoolKey): FuzzRequest {
    const rng = this.rng;
    const method = rng.pick(['PUT', 'PUT', 'PUT', 'GET', 'GET', 'DELETE', 'POST', 'PATCH', 'PATCH', 'HEAD', 'OPTIONS']);
    const target = `/jobs/${encodeSegment(key.path, rng)}/${encodeSegment(key.body, rng)}`;
    let params: [string, string][] = [];
    if (method === 'PUT') params = rng.chance(0.8) ? this.jobSpec() : this.randomParams();
    else if (method === 'PATCH')
      params = rng.chance(0.8)
        ? [[rng.pick(['disable', 'enable']), rng.pick(['true', '1', 'yes', 'on', 'false', 'off', 'no', '0'])]]
        : this.randomParams();
    else if (rng.chance(0.2)) params = this.randomParams();
    // No tricks here: the answer must be about this key, so the test can follow its state.
    return { ...this.build(method, target, params, { formChance: 0.25, hostileChance: 0 }), key };
  }

  /** Anything at all. */
  any(pool: readonly PoolKey[]): FuzzRequest {
    const rng = this.rng;
    const roll = rng.next();
    const method = rng.chance(0.85) ? rng.pick(API_METHODS) : rng.pick(OTHER_METHODS);
    let target: string;
    let key: PoolKey | undefined;
    if (roll < 0.45) {
      const [path, body] = [this.segment(pool), this.segment(pool)];
      target = `/jobs/${path}/${body}`;
      // A segment may be a pool key's own: then the answer is about that key and must be followed.
      key = pool.find((k) => k.path === decodeSegment(path) && k.body === decodeSegment(body));
    } else if (roll < 0.55) target = this.oddJobsPath(pool);
    else if (roll < 0.95) target = rng.pick(OTHER_ROUTES);
    else target = `/${this.segment(pool)}`;
    const params = rng.chance(0.6) ? this.randomParams() : [];
    const request = this.build(method, target, params, { formChance: 0.2, hostileChance: 0.25 });
    // Only while the request line still names it (an odd prefix makes it another route).
    const line = request.bytes.subarray(0, request.bytes.indexOf('\r\n')).toString('latin1');
    const named = line.startsWith(`${method} ${target}`) && [' ', '?'].includes(line[method.length + 1 + target.length] ?? '');
    return key && named ? { ...request, key } : request;
  }

  /** A valid-looking (mostly valid) PUT parameter set. */
  jobSpec(): [string, string][] {
    const rng = this.rng;
    const params: [string, string][] = [];
    const kind = rng.int(6);
    const future = () => new Date(Date.now() + rng.between(1, 120) * 1000).toISOString();
    const past = () => new Date(Date.now() - rng.between(1, 10 ** 9) * 1000).toISOString();
    if (kind <= 1) params.push(['interval', rng.pick(INTERVALS)]);
    else if (kind === 2) params.push(['cron', rng.pick(CRONS)]);
    else if (kind === 3)
      params.push(['one-off', rng.pick(['true', 'yes', '1', 'on'])], ['interval', rng.pick(['1', '2', '5', '3600', 'PT0.5S', 'P1D'])]);
    else if (kind === 4) params.push(['one-off', 'true'], ['immediate', rng.pick(['true', 'on'])]);
    else params.push(['one-off', 'true'], ['first-run', rng.chance(0.5) ? past() : future()]);
    if (kind <= 2 && rng.chance(0.2)) params.push(rng.chance(0.5) ? ['immediate', 'true'] : ['first-run', rng.chance(0.5) ? past() : future()]);
    if (rng.chance(0.3)) params.push(['location', rng.pick(ZONES)]);
    if (rng.chance(0.1)) params.push([rng.pick(PARAM_NAMES), rng.pick(HOSTILE_VALUES)]);
    return params;
  }

  private randomParams(): [string, string][] {
    const rng = this.rng;
    const params: [string, string][] = [];
    for (let i = rng.between(1, 4); i > 0; i--) {
      const name = rng.chance(0.85) ? rng.pick(PARAM_NAMES) : rng.pick(JUNK_PARAM_NAMES);
      const value = rng.chance(0.7) ? rng.pick(HOSTILE_VALUES) : rng.pick([...INTERVALS, ...CRONS, ...ZONES]);
      params.push([name, value]);
    }
    return params;
  }

  /** One raw segment: hostile, broken, a pool key's, or random bytes. */
  private segment(pool: readonly PoolKey[]): string {
    const rng = this.rng;
    const roll = rng.next();
    if (roll < 0.3) return rng.pick(this.hostile);
    if (roll < 0.6) return rng.pick(BROKEN_SEGMENTS);
    if (roll < 0.75) return encodeSegment(rng.pick(pool)[rng.chance(0.5) ? 'path' : 'body'], rng);
    if (roll < 0.9) return Array.from({ length: rng.between(2, 3) }, () => rng.pick([...this.hostile, ...BROKEN_SEGMENTS])).join('');
    // Random printable bytes, and now and then any byte at all.
    return Array.from({ length: rng.between(1, 40) }, () => String.fromCharCode(rng.chance(0.9) ? rng.between(0x21, 0x7e) : rng.int(256))).join('');
  }

  private oddJobsPath(pool: readonly PoolKey[]): string {
    const rng = this.rng;
    const a = this.segment(pool);
    const b = this.segment(pool);
    return rng.pick([
      `/jobs/${a}`,
      `/jobs/${a}/${b}/${this.segment(pool)}`,
      `/jobs//${a}/${b}`,
      `/jobs/${a}/${b}/`,
      `/jobs/${a}//${b}`,
      `/jobs/./${a}/${b}`,
      `/jobs/../jobs/${a}/${b}`,
      `/jobs/${a}%2F${b}/x`,
      `http://${this.options.attackerAuthority}/jobs/${a}/${b}`,
      `//${this.options.attackerAuthority}/jobs/${a}/${b}`,
    ]);
  }

  private query(params: [string, string][]): string {
    const rng = this.rng;
    return params
      .map(([name, value]) => {
        const encode = (text: string) => (rng.chance(0.9) ? encodeURIComponent(text) : utf8(text));
        return `${encode(name)}=${encode(value)}`;
      })
      .join('&');
  }

  /** Puts method, target, parameters (in the query or a form body), headers and a body together. */
  private build(method: string, baseTarget: string, params: [string, string][], chances: { formChance: number; hostileChance: number }): FuzzRequest {
    const rng = this.rng;
    const notes: string[] = [];
    const headers: string[] = [`Host: ${this.options.host}`, 'Connection: close'];
    let body: Buffer = Buffer.alloc(0);
    let target = baseTarget;
    let contentType: string | undefined;
    const query = this.query(params);
    if (query !== '' && rng.chance(chances.formChance)) {
      body = bytesOf(query);
      contentType = 'application/x-www-form-urlencoded';
      notes.push(`form ${query.slice(0, 80)}`);
    } else if (query !== '') {
      target += `${target.includes('?') ? '&' : '?'}${query}`;
    }
    let upgrade = false;
    if (rng.chance(chances.hostileChance)) {
      const trick = rng.int(12);
      switch (trick) {
        case 0: {
          // Up to 1 MB of body: a form far over the limit, or bytes on a route that reads none.
          const size = Math.floor(FORM_LIMIT * 0.5 * ((1024 * 1024) / (FORM_LIMIT * 0.5)) ** rng.next());
          body = rng.chance(0.5) ? bytesOf(`interval=${'9'.repeat(size)}`) : rng.bytes(size);
          contentType = rng.chance(0.7) ? 'application/x-www-form-urlencoded' : contentType;
          notes.push(`body ${body.length} bytes`);
          break;
        }
        case 1: {
          // A header of 8-40 KB: over the 16 KB limit it must be 431 or a closed connection.
          const size = rng.between(8_000, 40_000);
          headers.push(`X-Huge: ${'h'.repeat(size)}`);
          notes.push(`header ${size} bytes`);
          break;
        }
        case 2: {
          const count = rng.between(100, 3_000);
          for (let i = 0; i < count; i++) headers.push(`X-Many-${i}: ${i}`);
          notes.push(`${count} headers`);
          break;
        }
        case 3:
          contentType = rng.pick(CONTENT_TYPES);
          body = rng.chance(0.5) ? bytesOf(this.query(this.randomParams())) : rng.bytes(rng.between(0, 300));
          notes.push(`content-type ${JSON.stringify(contentType)}`);
          break;
        case 4: {
          // Content-Encoding, with a body that is what it claims or garbage.
          const encoders: Record<string, (plain: Buffer) => Buffer> = {
            gzip: (plain) => zlib.gzipSync(plain),
            deflate: (plain) => zlib.deflateSync(plain),
            br: (plain) => zlib.brotliCompressSync(plain),
            identity: (plain) => plain,
          };
          const encoding = rng.pick([...Object.keys(encoders), 'compress', 'x-bogus']);
          const plain = bytesOf(this.query(this.jobSpec()));
          const encode = encoders[encoding] as ((plain: Buffer) => Buffer) | undefined;
          const garbage = encode !== undefined && rng.chance(0.5);
          body = garbage ? rng.bytes(rng.between(1, 200)) : (encode ?? ((b: Buffer) => b))(plain);
          contentType = 'application/x-www-form-urlencoded';
          headers.push(`Content-Encoding: ${encoding}`);
          notes.push(`content-encoding ${encoding}${garbage ? ' (garbage)' : ''}`);
          break;
        }
        case 5:
          headers.push(`X-Bytes: ${String.fromCharCode(...rng.bytes(rng.between(1, 50)).filter((b) => b !== 10 && b !== 13))}`);
          notes.push('raw header bytes');
          break;
        case 6:
          headers.push(
            rng.pick([
              'Authorization: Bearer \u00ff\u00fe',
              'Authorization: Basic Og==',
              'Cookie: a=b; c',
              'Expect: 100-continue',
              'Expect: bogus',
              'Accept: */*;q=nope',
              'Range: bytes=0-0',
              'X-Forwarded-For: ' + this.options.attackerAuthority,
              'Forwarded: for=evil;host=' + this.options.attackerAuthority,
            ]),
          );
          notes.push('odd header');
          break;
        case 7:
          headers.push('Content-Length: 5', 'Content-Length: 6');
          notes.push('two content-lengths');
          break;
        case 8:
          headers.push('Upgrade: websocket');
          upgrade = true;
          notes.push('upgrade');
          break;
        case 9:
          headers.shift(); // no Host
          notes.push('no host');
          break;
        case 10: {
          const plain = body.length > 0 ? body : bytesOf(this.query(this.jobSpec()));
          headers.push('Transfer-Encoding: chunked');
          contentType ??= 'application/x-www-form-urlencoded';
          const chunked = rng.chance(0.7)
            ? `${plain.length.toString(16)}\r\n${plain.toString('latin1')}\r\n0\r\n\r\n`
            : `zz\r\n${plain.toString('latin1')}\r\n`;
          notes.push('chunked');
          return this.finish(method, target, headers, contentType, bytesOf(chunked), notes, { chunked: true, upgrade });
        }
        default:
          target = target.replace(/^\/jobs\//, () => rng.pick(['/jobs/', '/jobs/%2e/', '/jobs/;/', '/jobs/./']));
          notes.push('odd prefix');
      }
    }
    return this.finish(method, target, headers, contentType, body, notes, { chunked: false, upgrade });
  }

  private finish(
    method: string,
    target: string,
    headers: string[],
    contentType: string | undefined,
    body: Buffer,
    notes: string[],
    how: { chunked: boolean; upgrade: boolean },
  ): FuzzRequest {
    if (contentType !== undefined) headers.push(`Content-Type: ${contentType}`);
    if (!how.chunked && (body.length > 0 || ['PUT', 'POST', 'PATCH'].includes(method))) headers.push(`Content-Length: ${body.length}`);
    const head = bytesOf(`${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
    return {
      bytes: Buffer.concat([head, body]),
      label: labelOf(method, target, notes),
      method,
      mayDrop: head.length > HEADER_LIMIT || body.length > FORM_LIMIT || how.upgrade || method === 'CONNECT',
    };
  }
}
