/**
 * Hot standby on MySQL: a second server on the same table waits, holding no jobs and firing
 * nothing, and takes over when the active server dies (kill -9), stops, or loses its database
 * connection (a TCP proxy the test cuts). Takeover = from the fault to the standby's /readyz 200.
 * "Fired by both": two callbacks for the same job and Dalga-Sched from two instances.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, MYSQL, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer, type ReceivedCallback } from '../helpers/endpoint-server.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const TAKEOVER_LIMIT_MS = 5_000;
const JOBS = 20;
/** Each job fires every second: a takeover gap shows as missing slots, a double fire as duplicates. */
const SECTIONS = (baseUrl: string) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n`;

function instanceOf(callback: ReceivedCallback): string {
  return String(callback.headers['dalga-instance']);
}

function slotOf(callback: ReceivedCallback): string {
  return `${callback.path} ${String(callback.headers['dalga-sched'])} ${String(callback.headers['dalga-attempt'])}`;
}

/** Slots called back by more than one instance, with each instance's first arrival. */
function slotsFiredByTwo(callbacks: ReceivedCallback[]): Map<string, ReceivedCallback[]> {
  const bySlot = new Map<string, ReceivedCallback[]>();
  for (const callback of callbacks) {
    const slot = slotOf(callback);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), callback]);
  }
  return new Map([...bySlot].filter(([, list]) => new Set(list.map(instanceOf)).size > 1));
}

async function instanceId(dalga: DalgaProcess): Promise<string> {
  return (await dalga.request('GET', '/status')).json.instance_id as string;
}

/** Polls /readyz every 20 ms; resolves with ms from `since` to the first 200. */
async function readyAfter(dalga: DalgaProcess, since: number, timeoutMs = 15_000): Promise<number> {
  await eventually(
    () =>
      dalga
        .request('GET', '/readyz')
        .then((r) => r.status)
        .catch(() => 0),
    (status) => status === 200,
    'the standby to take over',
    timeoutMs,
  );
  return Date.now() - since;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

describe('hot standby (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let config: string;
  let proxy: TcpProxy;
  let proxiedConfig: string;
  const servers = new Set<DalgaProcess>();
  const takeovers: { fault: string; ms: number }[] = [];

  const start = async (file: string, waitReady: boolean) => {
    const dalga = await DalgaProcess.start(file, { waitReady, timeoutMs: 20_000 });
    servers.add(dalga);
    return dalga;
  };

  before(async () => {
    db = createTestDatabase('mysql');
    endpoint = await EndpointServer.start();
    config = writeConfig(db, SECTIONS(endpoint.baseUrl));
    assert.equal((await runCli(['-config', config, '-create-table'])).code, 0);
    proxy = await TcpProxy.start({ host: MYSQL.host, port: MYSQL.port });
    const throughProxy = { ...db, ini: db.ini.replace(/^port = .*$/m, `port = ${proxy.port}`) };
    proxiedConfig = writeConfig(throughProxy, SECTIONS(endpoint.baseUrl), 'proxied.ini');
  });

  after(async () => {
    proxy?.resume();
    for (const dalga of servers) await dalga.kill().catch(() => {});
    await proxy?.close();
    await endpoint?.close();
    await db?.drop();
    if (takeovers.length > 0) {
      const ms = takeovers.map((t) => t.ms);
      const summary = {
        takeovers: takeovers.length,
        medianMs: median(ms),
        worstMs: Math.max(...ms),
        byFault: takeovers,
        callbacks: endpoint.received.length,
        slotsFiredByTwo: slotsFiredByTwo(endpoint.received).size,
      };
      process.stdout.write(`STANDBY-SUMMARY ${JSON.stringify(summary)}\n`);
    }
  });

  test('a second server is a standby: healthy, not ready, no jobs, fires nothing', async (t) => {
    const active = await start(config, true);
    for (let i = 0; i < JOBS; i++) {
      const put = await active.request('PUT', `/jobs/standby/${i}?interval=1`);
      assert.equal(put.status, 201, put.text);
    }
    const standby = await start(config, false);
    const standbyId = await instanceId(standby);
    const activeId = await instanceId(active);

    assert.equal((await standby.request('GET', '/healthz')).status, 200);
    const ready = await standby.request('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.json.error, /^standby: another Dalga server is active/);
    for (const [method, path] of [
      ['GET', '/jobs/standby/1'],
      ['PUT', '/jobs/standby/new?interval=1'],
      ['DELETE', '/jobs/standby/1'],
      ['GET', '/jobs'],
      ['GET', '/debug/wheel'],
    ]) {
      const answer = await standby.request(method, path);
      assert.equal(answer.status, 503, `${method} ${path}: ${answer.text}`);
      assert.match(answer.json.error, /^standby: /, `${method} ${path}`);
    }
    const status = await standby.request('GET', '/status');
    assert.equal(status.json.role, 'standby');
    assert.equal(status.json.state, 'standby');
    assert.equal(status.json.active_instance, activeId);
    assert.equal(status.json.total_jobs, 0);
    assert.equal((await active.request('GET', '/status')).json.role, 'active');

    const since = Date.now();
    await sleep(2_500);
    const fired = endpoint.matching((c) => c.at >= since);
    assert.ok(fired.length >= JOBS, `the active server fires (${fired.length} callbacks)`);
    assert.equal(fired.filter((c) => instanceOf(c) === standbyId).length, 0, 'the standby fired nothing');
    t.diagnostic(`${fired.length} callbacks in 2.5 s, all from the active server`);
  });

  test('the standby takes over within 5 s when the active server is killed (-9), five times over', async (t) => {
    for (let round = 0; round < 5; round++) {
      const [active, standby] = await roles();
      const killedAt = Date.now();
      await active.kill();
      servers.delete(active);
      const ms = await readyAfter(standby, killedAt);
      takeovers.push({ fault: 'kill -9', ms });
      const newId = await instanceId(standby);
      await endpoint.waitFor((c) => instanceOf(c) === newId && c.at > killedAt, JOBS, 10_000);
      await start(config, false); // the killed server comes back, as a standby
    }
    t.diagnostic(`takeovers after kill -9: ${takeovers.map((x) => x.ms).join(', ')} ms`);
    for (const { ms } of takeovers) assert.ok(ms <= TAKEOVER_LIMIT_MS, `takeover took ${ms} ms`);
    // kill -9 may leave a callback in flight whose outcome was never written: the new active
    // server repeats that slot. Anything else fired by two servers is a bug.
    const twice = slotsFiredByTwo(endpoint.received);
    t.diagnostic(`slots fired by two servers: ${twice.size} (callbacks in flight at a kill)`);
    assert.ok(twice.size <= 5 * JOBS, `at most the callbacks in flight at the five kills: ${twice.size}`);
  });

  test('a graceful stop hands over at once', async (t) => {
    const [active, standby] = await roles();
    const stoppedAt = Date.now();
    assert.equal(await active.stop(), 0);
    servers.delete(active);
    const ms = await readyAfter(standby, stoppedAt);
    takeovers.push({ fault: 'SIGTERM', ms });
    t.diagnostic(`takeover after SIGTERM: ${ms} ms`);
    assert.ok(ms <= TAKEOVER_LIMIT_MS, `takeover took ${ms} ms`);
    await start(config, false);
  });

  test('the standby takes over when the active server loses its database; the old one stops firing and becomes a standby', async (t) => {
    // Make the server behind the proxy the active one.
    const [active, standby] = await roles();
    await standby.stop();
    servers.delete(standby);
    const proxied = await start(proxiedConfig, false);
    await active.stop();
    servers.delete(active);
    await readyAfter(proxied, Date.now());
    const direct = await start(config, false);
    const oldId = await instanceId(proxied);
    await endpoint.waitFor((c) => instanceOf(c) === oldId, JOBS, 10_000);
    await sleep(1_000);

    const cutAt = Date.now();
    proxy.cut();
    const ms = await readyAfter(direct, cutAt);
    takeovers.push({ fault: 'database connection cut', ms });
    t.diagnostic(`takeover after the active server lost its database: ${ms} ms`);
    assert.ok(ms <= TAKEOVER_LIMIT_MS, `takeover took ${ms} ms`);
    const newId = await instanceId(direct);
    await endpoint.waitFor((c) => instanceOf(c) === newId && c.at > cutAt, JOBS, 10_000);

    const oldStatus = await proxied.request('GET', '/status');
    assert.equal(oldStatus.json.state, 'suspended', 'the server without a database says so');
    assert.equal((await proxied.request('GET', '/jobs/standby/1')).status, 503);

    // The old server stopped firing within its lease (2 s) of the cut.
    const late = endpoint.matching((c) => instanceOf(c) === oldId && c.at > cutAt + 2_000);
    assert.deepEqual(late.map(slotOf), [], 'no callback from the old server after its lease ran out');
    // Slots both fired: only those the old server called back right at the cut and could not record.
    const twice = [...slotsFiredByTwo(endpoint.received).values()].filter((list) =>
      list.some((c) => instanceOf(c) === oldId && c.at > cutAt - 1_000),
    );
    t.diagnostic(`slots fired by both around the cut: ${twice.length}`);
    for (const list of twice) {
      const old = list.filter((c) => instanceOf(c) === oldId);
      assert.ok(
        old.every((c) => c.at <= cutAt + 2_000),
        'the old server fired it while it still held the lease',
      );
    }

    // The database comes back: the old server finds the lease taken and stays a standby.
    proxy.resume();
    await eventually(
      () => proxied.request('GET', '/status').then((r) => r.json.state as string),
      (state) => state === 'standby',
      'the old server to become a standby',
      10_000,
    );
    const since = Date.now();
    await sleep(1_500);
    assert.equal(endpoint.matching((c) => instanceOf(c) === oldId && c.at >= since).length, 0, 'the old server fires nothing');
    assert.equal((await proxied.request('GET', '/status')).json.active_instance, newId);
  });

  /** The running servers as [active, standby]. */
  async function roles(): Promise<[DalgaProcess, DalgaProcess]> {
    let active: DalgaProcess | undefined;
    let standby: DalgaProcess | undefined;
    for (const dalga of servers) {
      const state = (await dalga.request('GET', '/status')).json.state as string;
      if (state === 'ready') active = dalga;
      else if (state === 'standby') standby = dalga;
    }
    assert.ok(active && standby, 'one active server and one standby');
    return [active, standby];
  }
});
