/**
 * GET /jobs?path=<prefix>&limit=&cursor= end to end (MariaDB and SQLite, side by side): order by
 * (path, body) byte for byte, page limits, cursors, an exact and case-sensitive prefix with literal
 * % and _, and paging through 2,500 jobs while others are inserted and deleted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { createTestDatabase, MYSQL, skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Key {
  path: string;
  body: string;
}
interface Page {
  jobs: Key[];
  next_cursor: string | null;
}

/** (path, body) order as the database keeps it: UTF-8 bytes, path first. */
function compareKeys(a: Key, b: Key): number {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)) || Buffer.compare(Buffer.from(a.body), Buffer.from(b.body));
}
const keyText = (key: Key) => JSON.stringify([key.path, key.body]);
const jobUrl = (key: Key) => `/jobs/${encodeURIComponent(key.path)}/${encodeURIComponent(key.body)}`;

/** Runs fn over items, at most `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** 250 paths x 10 bodies under the prefix "bulk/", written straight into the table before the server starts. */
const STABLE: Key[] = [];
for (let p = 0; p < 250; p++) {
  for (let b = 0; b < 10; b++) STABLE.push({ path: `bulk/p${String(p).padStart(3, '0')}`, body: `b${b}` });
}
/** 150 jobs over 15 paths under "many/", and 150 bodies of the path "full". */
const MANY: Key[] = Array.from({ length: 150 }, (_, i) => ({
  path: `many/${String(i % 15).padStart(2, '0')}`,
  body: `b${String(i).padStart(3, '0')}`,
}));
const FULL: Key[] = Array.from({ length: 150 }, (_, i) => ({ path: 'full', body: `b${String(i).padStart(3, '0')}` }));
/** Everything written straight into the table. */
const FILLED = [...STABLE, ...MANY, ...FULL];

/** Inserts periodic jobs (interval of a day, due in an hour) in one statement or transaction. */
async function fillTable(db: TestDatabase, keys: Key[]): Promise<void> {
  const now = Date.now();
  const columns = 'path, body, `interval`, location, one_off, next_run, next_sched, attempts, created_at, updated_at';
  if (db.kind === 'mysql') {
    const due = new Date(now + 3_600_000);
    const created = new Date(now);
    const connection = await mysql.createConnection({ ...MYSQL, timezone: 'Z' });
    try {
      const rows = keys.map((key) => [key.path, key.body, '86400', 'UTC', 0, due, due, 0, created, created]);
      await connection.query(`INSERT INTO \`${db.table}\` (${columns}) VALUES ?`, [rows]);
    } finally {
      await connection.end();
    }
    return;
  }
  // SQLite keeps DATETIME(3) as UTC text, "YYYY-MM-DD HH:MM:SS.SSS".
  const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const sqlite = new Database(join(db.dir, 'dalga.sqlite'), { fileMustExist: true });
  try {
    const insert = sqlite.prepare(`INSERT INTO \`${db.table}\` (${columns}) VALUES (?, ?, '86400', 'UTC', 0, ?, ?, 0, ?, ?)`);
    const due = text(now + 3_600_000);
    const created = text(now);
    sqlite.transaction(() => {
      for (const key of keys) insert.run(key.path, key.body, due, due, created, created);
    })();
  } finally {
    sqlite.close();
  }
}

const KINDS = ['mysql', 'sqlite'] as DatabaseKind[];
const SKIP = Object.fromEntries(await Promise.all(KINDS.map(async (kind) => [kind, await skipUnlessMysql(kind)] as const)));

// The two databases run concurrently; each suite's tests run one after the other.
describe('listing', { concurrency: 2 }, () => {
  for (const kind of KINDS) {
    describe(`GET /jobs listing (${kind})`, { skip: SKIP[kind], concurrency: 1 }, () => {
      let db: TestDatabase;
      let dalga: DalgaProcess;

      async function put(key: Key): Promise<void> {
        const response = await dalga.request('PUT', `${jobUrl(key)}?interval=86400`);
        assert.equal(response.status, 201, `PUT ${keyText(key)}: ${response.text}`);
      }
      async function remove(key: Key): Promise<void> {
        const response = await dalga.request('DELETE', jobUrl(key));
        assert.equal(response.status, 204, `DELETE ${keyText(key)}: ${response.text}`);
      }
      async function page(query: string): Promise<Page> {
        const response = await dalga.request('GET', `/jobs?${query}`);
        assert.equal(response.status, 200, `GET /jobs?${query}: ${response.text}`);
        return response.json as Page;
      }
      /** Every page of a prefix, following the cursors. */
      async function listAll(prefix: string, limit: number, pause = 0): Promise<{ keys: Key[]; pages: number }> {
        const keys: Key[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query = new URLSearchParams({ path: prefix, limit: String(limit) });
          if (cursor) query.set('cursor', cursor);
          const result = await page(query.toString());
          pages++;
          assert.ok(result.jobs.length <= limit, `a page holds at most ${limit} jobs, got ${result.jobs.length}`);
          keys.push(...result.jobs.map(({ path, body }) => ({ path, body })));
          cursor = result.next_cursor;
          if (pause) await sleep(pause);
        } while (cursor !== null);
        return { keys, pages };
      }
      const paths = (keys: Key[]) => keys.map((key) => key.path);

      before(async () => {
        db = createTestDatabase(kind);
        // No job fires (interval of a day), so the endpoint is never called.
        const config = writeConfig(db, `[endpoint]\nbaseurl = http://127.0.0.1:9/\n`);
        const created = await runCli(['-config', config, '-create-table']);
        assert.equal(created.code, 0, created.stderr);
        await fillTable(db, FILLED);
        dalga = await DalgaProcess.start(config);
        assert.equal((await dalga.request('GET', '/status')).json.total_jobs, FILLED.length, 'the server loaded the jobs');
      });

      after(async () => {
        await dalga?.stop();
        await db?.drop();
      });

      test('ordered by (path, body), byte for byte', async () => {
        const keys: Key[] = [
          ...['ord', 'ord%', 'ord-a', 'ord/a', 'ord/a/b', 'ordA', 'ord_a', 'orda', 'ordé', 'ordz', 'ord~'].map((path) => ({ path, body: 'x' })),
          ...['b', 'a', 'B', '10', '9', 'a b', 'é', 'z', '{"id":1}'].map((body) => ({ path: 'ord/b', body })),
        ];
        await inParallel([...keys].reverse(), 8, put);
        const listed = await page('path=ord');
        assert.deepEqual(listed.jobs.map(keyText), [...keys].sort(compareKeys).map(keyText));
        assert.equal(listed.next_cursor, null);
        // Full job JSON in the listing.
        const first = (listed.jobs as unknown as Record<string, unknown>[])[0];
        assert.deepEqual(Object.keys(first).slice(0, 4), ['path', 'body', 'interval', 'next_run']);
        assert.equal(first.interval, 86400);
        // Without a prefix: everything (with the 2,800 written into the table), in the same order.
        const all = await listAll('', 1000);
        assert.deepEqual(all.keys.map(keyText), [...keys, ...FILLED].sort(compareKeys).map(keyText));
        assert.equal(all.pages, 3);
        await inParallel(keys, 8, remove);
      });

      test('the prefix is exact and case-sensitive; % and _ are literal; only the path is matched', async () => {
        const keys: Key[] = [
          ...['Case/x', 'case/x', 'CASE/x', 'cas', 'case', 'cases', 'casE'].map((path) => ({ path, body: 'b' })),
          ...['pct%a', 'pct%', 'pctXa', 'pct_a', 'pctYa', 'pcta', 'pct%%'].map((path) => ({ path, body: 'b' })),
          { path: 'zzz', body: 'case' },
        ];
        await inParallel(keys, 8, put);
        assert.deepEqual(paths((await page('path=case')).jobs), ['case', 'case/x', 'cases']);
        assert.deepEqual(paths((await page('path=Case')).jobs), ['Case/x']);
        assert.deepEqual(paths((await page('path=CASE')).jobs), ['CASE/x']);
        assert.deepEqual(paths((await page('path=case%2Fx')).jobs), ['case/x'], 'a prefix equal to the whole path matches it');
        assert.deepEqual(paths((await page('path=case%2Fxy')).jobs), []);
        assert.deepEqual(paths((await page('path=pct%25')).jobs), ['pct%', 'pct%%', 'pct%a'], '% is not a wildcard');
        assert.deepEqual(paths((await page('path=pct_')).jobs), ['pct_a'], '_ is not a wildcard');
        assert.deepEqual(paths((await page('path=pct%25%25')).jobs), ['pct%%']);
        assert.deepEqual(paths((await page('path=pct')).jobs), ['pct%', 'pct%%', 'pct%a', 'pctXa', 'pctYa', 'pct_a', 'pcta']);
        assert.deepEqual(paths((await page('path=zz')).jobs), ['zzz']);
        assert.deepEqual(paths((await page('path=nomatch')).jobs), []);
        assert.equal((await page('path=nomatch')).next_cursor, null);
        await inParallel(keys, 8, remove);
      });

      test('limit: default 100, at most 1000; next_cursor leads through every page and is null on the last', async () => {
        const expected = [...MANY].sort(compareKeys).map(keyText);

        const first = await page('path=many');
        assert.equal(first.jobs.length, 100, 'default limit');
        assert.equal(typeof first.next_cursor, 'string');
        const second = await page(`path=many&cursor=${encodeURIComponent(first.next_cursor as string)}`);
        assert.equal(second.jobs.length, 50);
        assert.equal(second.next_cursor, null, 'null on the last page');
        assert.deepEqual([...first.jobs, ...second.jobs].map(keyText), expected);

        const max = await page('path=many&limit=1000');
        assert.equal(max.jobs.length, 150);
        assert.equal(max.next_cursor, null);

        for (const limit of [7, 16, 149]) {
          const walked = await listAll('many', limit);
          assert.deepEqual(walked.keys.map(keyText), expected, `pages of ${limit}`);
          assert.equal(walked.pages, Math.ceil(150 / limit), `pages of ${limit}`);
        }

        for (const bad of ['1001', '0', '-1', 'abc', '1.5', '', '1e2', '100000000000000000000']) {
          const response = await dalga.request('GET', `/jobs?path=many&limit=${encodeURIComponent(bad)}`);
          assert.equal(response.status, 400, `limit=${bad}`);
          assert.match(response.json.error, /limit/, `limit=${bad}: ${response.json.error}`);
        }
        for (const bad of ['garbage', 'e30', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["a"]').toString('base64url')]) {
          const response = await dalga.request('GET', `/jobs?path=many&cursor=${encodeURIComponent(bad)}`);
          assert.equal(response.status, 400, `cursor=${bad}`);
          assert.match(response.json.error, /cursor/, `cursor=${bad}: ${response.json.error}`);
        }
        const unknown = await dalga.request('GET', '/jobs?prefix=many');
        assert.equal(unknown.status, 400, 'an unknown parameter is refused');
      });

      test('next_cursor is null on a last page that is exactly full', async () => {
        const whole = await page('path=full&limit=150');
        assert.equal(whole.jobs.length, FULL.length);
        assert.equal(whole.next_cursor, null, 'limit=150: one page, no cursor');
        const halves = await listAll('full', 75);
        assert.equal(halves.pages, 2, 'limit=75: two pages, not a third empty one');
      });

      test('2,500 jobs in pages of 300 while others are inserted and deleted: each seen once, in order', async () => {
        // STABLE: 2,500 jobs under "bulk/", present throughout. Some of them are also replaced
        // through the API meanwhile (a PUT of an existing job keeps it present).
        const stable = STABLE;
        const stableSet = new Set(stable.map(keyText));

        // Churn, inside the prefix (between and around stable keys, on pages already read and
        // pages still ahead) and outside it (neighbours of the prefix).
        let stop = false;
        let writes = 0;
        const churnKey = (n: number): Key => {
          const p = String(n % 250).padStart(3, '0');
          switch (n % 8) {
            case 0:
              return { path: `bulk/p${p}`, body: `a${n}` }; // before the stable bodies of a path
            case 1:
              return { path: `bulk/p${p}`, body: `b5x${n}` }; // between stable bodies
            case 2:
              return { path: `bulk/p${p}x`, body: `c${n}` }; // a path between stable paths
            case 3:
              return { path: `bulk/p${p}`, body: `z${n}` }; // after the stable bodies
            case 4:
              return { path: 'bulk', body: `out${n}` }; // the prefix without its slash: outside
            case 5:
              return { path: `bulj/p${p}`, body: `out${n}` }; // just before the prefix
            case 6:
              return { path: `bulkz/p${p}`, body: `out${n}` }; // just after "bulk/"
            default:
              return { path: `Bulk/p${p}`, body: `out${n}` }; // other case: outside
          }
        };
        const churner = async (worker: number) => {
          const mine: Key[] = [];
          for (let n = worker; !stop; n += 4) {
            const key = churnKey((n * 7919) % 100_000);
            await put(key);
            mine.push(key);
            writes++;
            if (n % 5 === 0) {
              await put(STABLE[(n * 31) % STABLE.length]); // replacing a job keeps it listed once
              writes++;
            }
            if (mine.length > 20) {
              await remove(mine.shift() as Key);
              writes++;
            }
          }
          await inParallel(mine, 4, remove);
        };
        const churn = Promise.all([0, 1, 2, 3].map(churner));

        try {
          await sleep(100);
          for (let round = 0; round < 3; round++) {
            const writesBefore = writes;
            const { keys, pages } = await listAll('bulk/', 300, 15);
            const seen = new Map<string, number>();
            for (const key of keys) seen.set(keyText(key), (seen.get(keyText(key)) ?? 0) + 1);
            const repeated = [...seen].filter(([, count]) => count > 1);
            assert.deepEqual(repeated, [], `round ${round}: no job listed twice`);
            const missing = stable.filter((key) => !seen.has(keyText(key)));
            assert.deepEqual(missing.slice(0, 5), [], `round ${round}: ${missing.length} stable jobs missing`);
            for (let i = 1; i < keys.length; i++) {
              assert.ok(compareKeys(keys[i - 1], keys[i]) < 0, `round ${round}: ${keyText(keys[i - 1])} before ${keyText(keys[i])}`);
            }
            const outside = keys.filter((key) => !key.path.startsWith('bulk/'));
            assert.deepEqual(outside, [], `round ${round}: only paths under the prefix`);
            const extra = keys.length - stableSet.size;
            assert.ok(extra >= 0 && extra <= 4 * 21 + 4, `round ${round}: ${extra} churn jobs listed`);
            assert.ok(pages >= Math.ceil(stable.length / 300), `round ${round}: ${pages} pages`);
            assert.ok(writes - writesBefore >= 20, `round ${round}: only ${writes - writesBefore} writes overlapped the listing`);
          }
        } finally {
          stop = true;
          await churn;
        }
        // With the churn gone, exactly the stable jobs remain under the prefix.
        const settled = await listAll('bulk/', 300);
        assert.deepEqual(settled.keys.map(keyText), [...stable].sort(compareKeys).map(keyText));
        assert.equal(settled.pages, Math.ceil(stable.length / 300));
        const left = (await listAll('', 1000)).keys;
        assert.deepEqual(left.map(keyText), [...FILLED].sort(compareKeys).map(keyText), 'the churn cleaned up after itself');
      });
    });
  }
});
