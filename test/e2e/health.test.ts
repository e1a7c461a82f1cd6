/**
 * /healthz and /readyz as a load balancer or an orchestrator sees them, including a database that
 * goes away: the MySQL case runs through a TCP proxy that the test cuts and restores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, MYSQL, skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

for (const kind of ['sqlite', 'mysql'] as DatabaseKind[]) {
  describe(`health (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let db: TestDatabase;
    let dalga: DalgaProcess;

    before(async () => {
      db = createTestDatabase(kind);
      const config = writeConfig(db, '');
      if (kind === 'mysql') assert.equal((await runCli(['-config', config, '-create-table'])).code, 0);
      dalga = await DalgaProcess.start(config);
    });

    after(async () => {
      await dalga?.stop();
      await db?.drop();
    });

    test('/healthz and /readyz answer 200 once the jobs are loaded', async () => {
      const health = await dalga.request('GET', '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { status: 'ok' });
      const ready = await dalga.request('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { status: 'ready' });
      const status = await dalga.request('GET', '/status');
      assert.equal(status.json.state, 'ready');
    });
  });
}

describe('readiness when MySQL becomes unreachable', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dalga: DalgaProcess;

  before(async () => {
    db = createTestDatabase('mysql');
    assert.equal((await runCli(['-config', writeConfig(db, '', 'direct.ini'), '-create-table'])).code, 0);
    proxy = await TcpProxy.start({ host: MYSQL.host, port: MYSQL.port });
    const throughProxy = { ...db, ini: db.ini.replace(/^port = .*$/m, `port = ${proxy.port}`) };
    dalga = await DalgaProcess.start(writeConfig(throughProxy, ''));
  });

  after(async () => {
    proxy?.resume();
    await dalga?.stop();
    await proxy?.close();
    await db?.drop();
  });

  test('cut: /readyz is 503 "database unreachable" (and job calls 503), /healthz stays 200; back to 200 when it returns', async () => {
    assert.equal((await dalga.request('GET', '/readyz')).status, 200);
    assert.equal((await dalga.request('PUT', '/jobs/before/cut?interval=60')).status, 201);
    assert.ok(proxy.accepted > 0, 'the server does reach MySQL through the proxy');

    proxy.cut();
    const started = Date.now();
    const notReady = await dalga.request('GET', '/readyz');
    assert.equal(notReady.status, 503);
    assert.equal(notReady.json.status, 'not ready');
    assert.match(notReady.json.error, /^database unreachable: /);
    assert.ok(Date.now() - started < 5_000, 'a refused connection is reported at once, not after the query timeout');
    assert.equal((await dalga.request('GET', '/healthz')).status, 200, 'the process itself is fine');
    const put = await dalga.request('PUT', '/jobs/during/cut?interval=60');
    assert.equal(put.status, 503);
    assert.match(put.json.error, /database/);
    assert.equal(put.headers.get('retry-after'), '1');

    proxy.resume();
    const deadline = Date.now() + 10_000;
    let ready = await dalga.request('GET', '/readyz');
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await dalga.request('GET', '/readyz');
    }
    assert.equal(ready.status, 200, JSON.stringify(ready.json));
    assert.equal((await dalga.request('PUT', '/jobs/after/cut?interval=60')).status, 201);
    assert.equal((await dalga.request('GET', '/jobs/before/cut')).status, 200);
  });
});
