/**
 * The command line as a user meets it: -version, -create-table, config errors, a missing table,
 * a second server on the same table, and the zero-setup SQLite default.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createTestDatabase, mysqlQuery, skipUnlessMysql } from '../helpers/databases.js';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';

const mysqlSkip = await skipUnlessMysql('mysql');

describe('command line', () => {
  test('-version and --version print the version', async () => {
    for (const flag of ['-version', '--version']) {
      const result = await runCli([flag]);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^dalga \d+\.\d+\.\d+\n$/);
    }
  });

  test('an unknown flag exits non-zero with the usage', async () => {
    const result = await runCli(['-frobnicate']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /usage: dalga/);
  });

  test('an unknown config key stops the server at start, naming the key', async () => {
    const db = createTestDatabase('sqlite');
    try {
      const config = writeConfig(db, '[jobs]\nretry_intervall = 5\n');
      const result = await runCli(['-config', config]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /\[jobs\] retry_intervall: unknown key/);
      const bad = await runCli(['-config', config], { DALGA_JOBS_RETRY_INTERVALL: '1' });
      assert.match(bad.stderr, /retry_intervall/);
    } finally {
      await db.drop();
    }
  });

  test('a port already in use: one clear line and exit code 1, no stack trace', async () => {
    const db = createTestDatabase('sqlite');
    const first = await DalgaProcess.start(writeConfig(db, ''));
    try {
      const port = new URL(first.url).port;
      const other = createTestDatabase('sqlite');
      try {
        const busy = join(other.dir, 'busy.ini');
        writeFileSync(busy, `${other.ini}\n[listen]\nhost = 127.0.0.1\nport = ${port}\n`);
        const result = await runCli(['-config', busy]);
        assert.equal(result.code, 1);
        assert.equal(result.stderr, `dalga: listen 127.0.0.1:${port}: address already in use\n`);
      } finally {
        await other.drop();
      }
    } finally {
      await first.stop();
      await db.drop();
    }
  });

  test("Kubernetes service variables (DALGA_SERVICE_HOST, DALGA_PORT_...) are not Dalga's: ignored, with one debug line", async () => {
    const db = createTestDatabase('sqlite');
    try {
      const env = {
        DALGA_SERVICE_HOST: '10.0.0.7',
        DALGA_SERVICE_PORT: '34006',
        DALGA_PORT: 'tcp://10.0.0.7:34006',
        DALGA_PORT_34006_TCP: 'tcp://10.0.0.7:34006',
        DALGA_PORT_34006_TCP_ADDR: '10.0.0.7',
      };
      const dalga = await DalgaProcess.start(writeConfig(db, ''), { env });
      assert.equal((await dalga.request('PUT', '/jobs/k8s/1?interval=60')).status, 201);
      assert.equal(await dalga.stop(), 0);
      const line = dalga.output.split('\n').find((l) => l.includes('ignored DALGA_'));
      assert.ok(line, dalga.output);
      assert.deepEqual(JSON.parse(line).variables.sort(), Object.keys(env).sort());
      const typo = await runCli(['-config', writeConfig(db, '')], { DALGA_LISTEN_PROT: '1' });
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /DALGA_LISTEN_PROT: \[listen\] prot: unknown key/);
    } finally {
      await db.drop();
    }
  });

  test('with no config file: the embedded SQLite file dalga.sqlite in the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dalga-default-'));
    try {
      const config = join(dir, 'listen.ini');
      writeFileSync(config, '[listen]\nport = 0\n');
      // The only setting given is the port (so tests can run in parallel); everything else is the default.
      const dalga = await DalgaProcess.start(config, { cwd: dir });
      assert.equal((await dalga.request('PUT', '/jobs/default/db?interval=60')).status, 201);
      assert.equal(await dalga.stop(), 0);
      assert.ok(existsSync(join(dir, 'dalga.sqlite')), 'dalga.sqlite created in the working directory');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a second server on the same SQLite file refuses to start', async () => {
    const db = createTestDatabase('sqlite');
    const first = await DalgaProcess.start(writeConfig(db, ''));
    try {
      const second = await runCli(['-config', writeConfig(db, '', 'second.ini')]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /another Dalga server \(pid \d+\) is already using this database/);
    } finally {
      await first.stop();
      await db.drop();
    }
  });

  test('two servers in separate PID namespaces (two containers on one volume) on one SQLite file: the second refuses; a killed one leaves no lock', async () => {
    // Each sees itself as pid 1: a pid in a lock file cannot tell them apart, the kernel's lock on the file can.
    // unshare ignores SIGTERM; killed, it takes its child with it (--kill-child: SIGKILL).
    const container = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
    const db = createTestDatabase('sqlite');
    try {
      const first = await DalgaProcess.start(writeConfig(db, ''), { wrapper: container });
      assert.equal((await first.request('PUT', '/jobs/ns/1?interval=60')).status, 201);
      const second = await runCli(['-config', writeConfig(db, '', 'second.ini')], {}, undefined, container);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, /another Dalga server \(pid 1\) is already using this database; refusing to start a second one/);
      await first.kill(); // kill -9 of the container: no clean shutdown
      const third = await DalgaProcess.start(writeConfig(db, '', 'third.ini'), { wrapper: container });
      try {
        assert.equal((await third.request('GET', '/jobs/ns/1')).status, 200, 'the lock died with its process');
      } finally {
        await third.kill();
      }
    } finally {
      await db.drop();
    }
  });

  describe('MySQL', { skip: mysqlSkip }, () => {
    test('a missing table stops the server with a message that says to run -create-table', async () => {
      const db = createTestDatabase('mysql');
      try {
        const result = await runCli(['-config', writeConfig(db, '')]);
        assert.equal(result.code, 1);
        assert.match(result.stderr, new RegExp(`table test\\.${db.table} does not exist: create it with "dalga -config <file> -create-table"`));
      } finally {
        await db.drop();
      }
    });

    test('-create-table creates the table and its indexes, and is safe to run twice', async () => {
      const db = createTestDatabase('mysql');
      try {
        const config = writeConfig(db, '');
        const first = await runCli(['-config', config, '-create-table']);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /^created /);
        const second = await runCli(['--config', config, '--create-table']);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /^already exists: /);
        const indexes = (await mysqlQuery(`SHOW INDEX FROM \`${db.table}\``)) as { Key_name: string; Column_name: string }[];
        assert.deepEqual(
          indexes.filter((i) => i.Key_name === 'PRIMARY').map((i) => i.Column_name),
          ['path', 'body'],
        );
        assert.ok(
          indexes.some((i) => i.Key_name !== 'PRIMARY' && i.Column_name === 'next_run'),
          'an index on next_run',
        );
      } finally {
        await db.drop();
      }
    });
  });
});
