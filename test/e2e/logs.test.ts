/**
 * Logs as an operator reads them: one JSON line per API request carrying the job key, pretty lines
 * on a terminal, and never the database password (nor in /status and the other read-outs).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, MYSQL, mysqlQuery, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface LogLine {
  level: number;
  time: string;
  msg: string;
  [field: string]: unknown;
}

function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('request log', () => {
  let db: TestDatabase;
  let dalga: DalgaProcess;

  before(async () => {
    db = createTestDatabase('sqlite');
    dalga = await DalgaProcess.start(writeConfig(db, ''));
  });

  after(async () => {
    await dalga?.stop();
    await db?.drop();
  });

  test('one info line per API request, with route, status, time taken and the decoded job key', async () => {
    const before = jsonLines(dalga.output).length;
    await dalga.request('PUT', '/jobs/feeds%2Fcheck/user%201?interval=60');
    await dalga.request('GET', '/jobs/feeds%2Fcheck/user%201');
    await dalga.request('GET', '/jobs?limit=0');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const requests = jsonLines(dalga.output)
      .slice(before)
      .filter((line) => line.msg === 'request');
    assert.equal(requests.length, 3, JSON.stringify(requests));
    const [put, get, list] = requests;
    assert.equal(put.level, 30);
    assert.equal(put.method, 'PUT');
    assert.equal(put.status, 201);
    assert.equal(put.route, '/jobs/:path/:body');
    assert.deepEqual(put.job, { path: 'feeds/check', body: 'user 1' });
    assert.equal(typeof put.ms, 'number');
    assert.match(put.time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(get.status, 200);
    assert.equal(list.status, 400);
    assert.equal(list.route, '/jobs');
    assert.equal(list.job, undefined, 'no job key where there is none');
  });
});

describe('human-readable logs on a terminal', () => {
  test('with stdout a TTY the server prints pretty lines, not JSON', async (t) => {
    const db = createTestDatabase('sqlite');
    const port = await freePort();
    const config = join(db.dir, 'dalga.ini');
    writeFileSync(config, `${db.ini}\n[listen]\nhost = 127.0.0.1\nport = ${port}\n`);
    const tsx = join(ROOT, 'node_modules/tsx/dist/loader.mjs');
    const command = `${process.execPath} --import ${tsx} ${join(ROOT, 'src/cli.ts')} -config ${config}`;
    // util-linux `script` gives the server a pseudo-terminal as stdout.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => t.diagnostic(`script: ${error.message}`));
    try {
      const deadline = Date.now() + 20_000;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        ready = (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(ready, `server did not get ready:\n${output}`);
      await fetch(`http://127.0.0.1:${port}/status`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      assert.match(plain, /INFO.*listening/);
      assert.match(plain, /INFO.*request/);
      assert.match(plain, /path: "\/status"/);
      assert.ok(!plain.split(/\r?\n/).some((line) => line.startsWith('{"level"')), `JSON on a terminal:\n${plain}`);
    } finally {
      const pid = /INFO \((\d+)\)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
      if (pid) process.kill(Number(pid), 'SIGTERM');
      else child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await db.drop();
    }
  });
});

describe('secrets (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  const user = `dalga_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  let db: TestDatabase;

  before(async () => {
    db = createTestDatabase('mysql');
    for (const host of ['localhost', '127.0.0.1', '%']) {
      await mysqlQuery(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
      await mysqlQuery(`GRANT ALL ON \`${MYSQL.database}\`.* TO '${user}'@'${host}'`);
    }
    db.ini = db.ini.replace(/^user = .*$/m, `user = ${user}`).replace(/^password =.*$/m, `password = ${password}`);
  });

  after(async () => {
    for (const host of ['localhost', '127.0.0.1', '%']) await mysqlQuery(`DROP USER IF EXISTS '${user}'@'${host}'`);
    await db?.drop();
  });

  test('the config password never appears in the logs, /status, /metrics or /debug/wheel', async () => {
    const config = writeConfig(db, '[endpoint]\nbaseurl = http://127.0.0.1:9/\ntimeout = 1\n');
    const created = await runCli(['-config', config, '-create-table']);
    assert.equal(created.code, 0, created.stderr);
    assert.ok(!`${created.stdout}${created.stderr}`.includes(password));

    const dalga = await DalgaProcess.start(config); // started with -debug: the most verbose logs
    try {
      assert.equal((await dalga.request('PUT', '/jobs/a/b?one-off=true&immediate=true')).status, 201);
      await dalga.request('PUT', '/jobs/bad/x?interval=nope');
      await dalga.request('GET', '/jobs/missing/x');
      const readouts = await Promise.all(
        ['/status', '/metrics', '/debug/wheel?next=100', '/readyz', '/openapi.json'].map((path) => dalga.request('GET', path)),
      );
      for (const response of readouts) {
        assert.equal(response.status, 200);
        assert.ok(!response.text.includes(password), 'password in a read-out');
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the callback fails (nothing on port 9) and is logged
      assert.match(dalga.output, /"msg":"callback"/);
      assert.ok(dalga.output.includes(user), 'the logs do name the database user');
      assert.ok(!dalga.output.includes(password), 'password in the logs');
    } finally {
      assert.equal(await dalga.stop(), 0);
    }
    assert.ok(!dalga.output.includes(password), 'password in the shutdown logs');
  });

  test('a wrong password fails the start without printing it', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const config = writeConfig({ ...db, ini: db.ini.replace(/^password = .*$/m, `password = ${wrong}`) }, '', 'wrong.ini');
    const result = await runCli(['-config', config]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Access denied/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(wrong));
  });
});
