/**
 * The database is the truth: jobs survive a stop and a kill -9, reload into the wheel and fire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { instancesTableName } from '../../src/store/table-names.js';
import { mysqlQuery, skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import { DalgaProcess } from '../helpers/dalga-process.js';
import type { EndpointServer } from '../helpers/endpoint-server.js';
import { createTestStack, type TestStack } from '../helpers/test-stack.js';

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`restart (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: TestStack;
    let endpoint: EndpointServer;
    let config: string;

    before(async () => {
      stack = await createTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n[jobs]\nretry_interval = 0.2\n`);
      ({ endpoint, config } = stack);
    });

    after(() => stack?.teardown());

    test('SIGTERM exits 0; after a restart the jobs are loaded and fire', async () => {
      const first = await DalgaProcess.start(config);
      const soon = new Date(Date.now() + 3_000).toISOString();
      assert.equal((await first.request('PUT', `/jobs/after_restart/x?one-off=true&first-run=${soon}`)).status, 201);
      assert.equal((await first.request('PUT', '/jobs/kept/y?interval=3600')).status, 201);
      assert.equal(await first.stop(), 0);

      const second = await DalgaProcess.start(config);
      // On a loaded machine the restart may take longer than the 3 s: then the job is due at load.
      const due = Math.max(Date.parse(soon), Date.now());
      try {
        const kept = await second.request('GET', '/jobs/kept/y');
        assert.equal(kept.status, 200);
        assert.equal(kept.json.interval, 3600);
        const [callback] = await endpoint.waitFor((c) => c.path === '/after_restart', 1, 10_000);
        assert.ok(callback.at >= Date.parse(soon), 'never early');
        assert.ok(callback.at - due < 1_000, `fired ${callback.at - due} ms late`);
        const status = await second.request('GET', '/status');
        assert.equal(status.json.total_jobs >= 1, true);
      } finally {
        assert.equal(await second.stop(), 0);
      }
    });

    test('a job that became due while the server was down fires once at start', async () => {
      const first = await DalgaProcess.start(config);
      const soon = new Date(Date.now() + 500).toISOString();
      await first.request('PUT', `/jobs/missed/z?interval=3600&first-run=${soon}`);
      await first.kill();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const second = await DalgaProcess.start(config);
      try {
        await endpoint.waitFor((c) => c.path === '/missed', 1, 5_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(endpoint.matching((c) => c.path === '/missed').length, 1, 'missed slot runs once, not once per slot');
        const job = await second.request('GET', '/jobs/missed/z');
        assert.ok(Date.parse(job.json.next_run) > Date.now() + 3_000_000, 'then back on its hourly slots');
      } finally {
        await second.stop();
      }
    });

    test('SIGTERM waits for callbacks in flight and writes their outcome before exiting 0', async () => {
      const first = await DalgaProcess.start(config);
      const firstId = (await first.request('GET', '/status')).json.instance_id;
      endpoint.responder = (c) => (c.path === '/draining' ? { status: 200, delayMs: 1_000 } : { status: 200 });
      try {
        await first.request('PUT', '/jobs/draining/a?one-off=true&immediate=true');
        await first.request('PUT', '/jobs/draining/b?interval=3600&immediate=true');
        await endpoint.waitFor((c) => c.path === '/draining', 2);
        const stopping = Date.now();
        assert.equal(await first.stop(), 0);
        assert.ok(Date.now() - stopping >= 500, 'stop waited for the callbacks in flight');
        if (kind === 'mysql') {
          // Its lease rounds went on while it drained; none may have put back the heartbeat it removed.
          const heartbeats = await mysqlQuery(`SELECT id FROM \`${instancesTableName(stack.db.table)}\` WHERE id = ?`, [firstId]);
          assert.deepEqual(heartbeats, [], 'a stopped server leaves no heartbeat for the others to wait on');
        }
      } finally {
        endpoint.responder = () => ({ status: 200 });
      }
      const second = await DalgaProcess.start(config);
      try {
        const status = (await second.request('GET', '/status')).json;
        assert.equal(status.shards.owned.length, status.shards.total, 'alone, it holds every shard once ready');
        assert.equal((await second.request('GET', '/jobs/draining/a')).status, 404, 'the one-off succeeded and was deleted');
        const periodic = await second.request('GET', '/jobs/draining/b');
        assert.equal(periodic.json.last_status, 200);
        assert.ok(Date.parse(periodic.json.next_run) > Date.now() + 3_000_000, 'moved to its next slot');
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(endpoint.matching((c) => c.path === '/draining').length, 2, 'nothing ran twice');
      } finally {
        await second.stop();
      }
    });

    test('kill -9 while PUTs are in flight: every acknowledged job is there after restart', async () => {
      const first = await DalgaProcess.start(config);
      const acknowledged = new Set<string>();
      let sent = 0;
      const writers = Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; ; i++) {
          const body = `w${worker}-${i}`;
          sent++;
          try {
            const response = await first.request('PUT', `/jobs/crash/${body}?interval=3600`);
            if (response.status === 201) acknowledged.add(body);
          } catch {
            return; // the server is gone
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await first.kill();
      await Promise.all(writers);
      assert.ok(acknowledged.size > 20, `only ${acknowledged.size} PUTs acknowledged before the kill`);

      const second = await DalgaProcess.start(config);
      try {
        const missing: string[] = [];
        for (const body of acknowledged) {
          const response = await second.request('GET', `/jobs/crash/${body}`);
          if (response.status !== 200) missing.push(body);
        }
        assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.size} acknowledged jobs lost (sent ${sent})`);
      } finally {
        await second.stop();
      }
    });
  });
}
