/**
 * Two servers on one MySQL table are each other's hot standby: each owns about half of the shards,
 * fires their jobs and forwards requests for the other half; when one dies (kill -9), stops
 * (SIGTERM) or loses its database connection (a TCP proxy the test cuts), the other takes every
 * shard. Takeover = from the fault to the survivor holding every shard loaded (GET /status).
 * A slot fired twice (same job, Dalga-Sched and Dalga-Attempt) is allowed only when the first
 * callback was in flight at a kill or a cut, made by the server the fault hit; every handover
 * (a server joining, a graceful stop, a rebalance) repeats nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, MYSQL, mysqlQuery, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer, type ReceivedCallback } from '../helpers/endpoint-server.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { balanced, ownsAllAfter, shardOf, shardStatus, type ShardStatus } from '../helpers/shard-status.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const TAKEOVER_LIMIT_MS = 5_000;
const KILL_ROUNDS = 5;
const JOBS = 40;
/** A callback received this long before a kill or cut may still have had its outcome unwritten. */
const IN_FLIGHT_MS = 2_000;
/** Each job fires every second: a takeover gap shows as late callbacks, a double fire as a repeated slot. */
const SECTIONS = (baseUrl: string) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n`;

const instanceOf = (callback: ReceivedCallback): string => String(callback.headers['dalga-instance']);
const keyOf = (callback: ReceivedCallback): string => `${callback.path.slice(1)}/${callback.body}`;
const slotOf = (callback: ReceivedCallback): string =>
  `${keyOf(callback)} ${String(callback.headers['dalga-sched'])} ${String(callback.headers['dalga-attempt'])}`;
const jobKeys = Array.from({ length: JOBS }, (_, i) => `pair/${i}`);

/** A fault that may leave callbacks of `instance` unrecorded: those received in [from, to]. */
interface Fault {
  kind: string;
  instance: string;
  from: number;
  to: number;
}

/** Slots called back more than once, with their callbacks in arrival order. */
function repeatedSlots(callbacks: ReceivedCallback[]): ReceivedCallback[][] {
  const bySlot = new Map<string, ReceivedCallback[]>();
  for (const callback of callbacks) {
    const slot = slotOf(callback);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), callback]);
  }
  return [...bySlot.values()].filter((list) => list.length > 1);
}

/** The fault a repeat is explained by: fired once by the server it hit, while in flight at it, and once more by another. */
function faultBehind(list: ReceivedCallback[], faults: Fault[]): Fault | undefined {
  const [first, ...rest] = list;
  if (rest.length !== 1 || instanceOf(rest[0]) === instanceOf(first)) return undefined;
  return faults.find((fault) => fault.instance === instanceOf(first) && first.at >= fault.from && first.at <= fault.to);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function metric(dalga: DalgaProcess, series: string): Promise<number> {
  const { text } = await dalga.request('GET', '/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** ms from `since` until every job has been called back by `instance` after `since`. */
async function everyJobFiredBy(endpoint: EndpointServer, instance: string, since: number, timeoutMs = 10_000): Promise<number> {
  const firstAfter = () => {
    const seen = new Map<string, number>();
    for (const callback of endpoint.received) {
      if (callback.at > since && instanceOf(callback) === instance && !seen.has(keyOf(callback))) seen.set(keyOf(callback), callback.at);
    }
    return seen;
  };
  await eventually(
    async () => jobKeys.filter((key) => !firstAfter().has(key)),
    (missing) => missing.length === 0,
    `every job called back by ${instance} (the value: those not yet)`,
    timeoutMs,
  );
  const first = firstAfter();
  return Math.max(...first.values()) - since;
}

describe('two servers (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let config: string;
  let proxy: TcpProxy;
  let proxiedConfig: string;
  /** The two servers running now. */
  let pair: DalgaProcess[] = [];
  const started = new Set<DalgaProcess>();
  const faults: Fault[] = [];
  const figures = { killTakeoverMs: [] as number[], killFiredMs: [] as number[], sigtermHandoffMs: 0, cutTakeoverMs: 0, cutFiredMs: 0 };

  const start = async (file: string) => {
    const dalga = await DalgaProcess.start(file, { timeoutMs: 20_000 });
    started.add(dalga);
    return dalga;
  };

  /** The owner, by /status, of every job. */
  const ownerOfEach = (statuses: ShardStatus[]): Map<string, ShardStatus> =>
    new Map(
      jobKeys.map((key) => {
        const [path, body] = key.split('/');
        const shard = shardOf(path, body, statuses[0].total);
        const owner = statuses.filter((status) => status.owned.includes(shard));
        assert.equal(owner.length, 1, `${key} (shard ${shard}) has one owner`);
        return [key, owner[0]];
      }),
    );

  /** Every repeated slot must be explained by a fault; returns how many were, per kind. */
  const checkRepeats = (what: string): Record<string, number> => {
    const byKind: Record<string, number> = {};
    for (const list of repeatedSlots(endpoint.received)) {
      const fault = faultBehind(list, faults);
      assert.ok(
        fault,
        `${what}: slot ${slotOf(list[0])} fired ${list.length} times, not explained by a fault: ${JSON.stringify(list.map((c) => ({ instance: instanceOf(c), at: c.at })))}; faults ${JSON.stringify(faults)}`,
      );
      byKind[fault.kind] = (byKind[fault.kind] ?? 0) + 1;
    }
    return byKind;
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
    for (const dalga of started) await dalga.kill().catch(() => {});
    await proxy?.close();
    await endpoint?.close();
    await db?.drop();
    const repeats = repeatedSlots(endpoint?.received ?? []);
    const summary = {
      ...figures,
      killTakeoverMedianMs: figures.killTakeoverMs.length > 0 ? median(figures.killTakeoverMs) : null,
      callbacks: endpoint?.received.length ?? 0,
      repeatedSlots: repeats.length,
      repeatedByFault: repeats.reduce<Record<string, number>>((count, list) => {
        const kind = faultBehind(list, faults)?.kind ?? 'unexplained';
        count[kind] = (count[kind] ?? 0) + 1;
        return count;
      }, {}),
    };
    process.stdout.write(`TWO-SERVERS-SUMMARY ${JSON.stringify(summary)}\n`);
  });

  test('each owns about half of the shards, fires their jobs, and serves every job through forwarding', async (t) => {
    const first = await start(config);
    for (const key of jobKeys) {
      const put = await first.request('PUT', `/jobs/${key}?interval=1`);
      assert.equal(put.status, 201, put.text);
    }
    const second = await start(config);
    pair = [first, second];
    const statuses = await balanced(pair);
    const ids = statuses.map((status) => status.instanceId);
    const total = statuses[0].total;
    assert.equal(total, 256, 'the default shard count');

    for (const status of statuses) {
      assert.ok(
        status.owned.length >= total / 4 && status.owned.length <= (3 * total) / 4,
        `${status.instanceId} owns ${status.owned.length} of ${total} shards`,
      );
      assert.deepEqual(status.instances.map((instance) => instance.id).sort(), [...ids].sort(), 'both servers are listed as live');
    }
    const all = statuses.flatMap((status) => status.owned).sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: total }, (_, shard) => shard),
      'every shard has exactly one owner',
    );
    // Each lists the other's shard count as the other reports it (by the last round).
    await eventually(
      () => Promise.all(pair.map(shardStatus)),
      (now) =>
        now.every((status) => status.instances.every((instance) => instance.shards === now.find((s) => s.instanceId === instance.id)?.owned.length)),
      'the instances list to show each server with its shards',
    );
    const owners = ownerOfEach(statuses);
    for (const status of statuses) {
      const mine = jobKeys.filter((key) => owners.get(key) === status);
      assert.equal(status.totalJobs, mine.length, `${status.instanceId} holds the jobs of its shards only`);
    }
    t.diagnostic(
      `shards: ${statuses.map((s) => `${s.instanceId} ${s.owned.length}`).join(', ')}; jobs: ${statuses.map((s) => s.totalJobs).join(' + ')}`,
    );

    // Jobs fire from both, each from its shard's owner only.
    const since = Date.now();
    await sleep(2_500);
    const fired = endpoint.matching((c) => c.at >= since);
    for (const id of ids)
      assert.ok(
        fired.some((c) => instanceOf(c) === id),
        `${id} fires`,
      );
    for (const key of jobKeys) {
      const firedBy = new Set(fired.filter((c) => keyOf(c) === key).map(instanceOf));
      assert.deepEqual([...firedBy], [owners.get(key)?.instanceId], `${key} fired by its owner only`);
    }

    // Every job readable and writable through either server, answered by its owner.
    for (const key of jobKeys) {
      const owner = owners.get(key)?.instanceId;
      for (const dalga of pair) {
        const got = await dalga.request('GET', `/jobs/${key}`);
        assert.equal(got.status, 200, got.text);
        assert.equal(got.headers.get('dalga-instance'), owner, `GET ${key} answered by its owner`);
      }
      for (const [i, dalga] of pair.entries()) {
        const interval = i === 0 ? 2 : 1;
        const put = await dalga.request('PUT', `/jobs/${key}?interval=${interval}`);
        assert.equal(put.status, 201, put.text);
        assert.equal(put.headers.get('dalga-instance'), owner, `PUT ${key} answered by its owner`);
        const other = pair[1 - i];
        assert.equal((await other.request('GET', `/jobs/${key}`)).json.interval, interval, `${key} as written through the other server`);
      }
    }
    // A job made and deleted through different servers; the listing reads the table on either.
    assert.equal((await first.request('PUT', '/jobs/pair-extra/x?interval=3600')).status, 201);
    assert.equal((await second.request('DELETE', '/jobs/pair-extra/x')).status, 204);
    assert.equal((await first.request('GET', '/jobs/pair-extra/x')).status, 404);
    for (const dalga of pair) {
      const listing = await dalga.request('GET', '/jobs?limit=1000');
      assert.deepEqual(
        listing.json.jobs.map((job: { path: string; body: string }) => `${job.path}/${job.body}`).sort(),
        [...jobKeys].sort(),
        'the listing shows every job on either server',
      );
    }
    checkRepeats('joining');
  });

  test(`kill -9 of one: the other owns every shard and fires every job within 5 s, ${KILL_ROUNDS} rounds`, async (t) => {
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const [victim, survivor] = round % 2 === 0 ? pair : [pair[1], pair[0]];
      const victimId = (await shardStatus(victim)).instanceId;
      const survivorId = (await shardStatus(survivor)).instanceId;
      await sleep(Math.random() * 1_000); // a random moment in the second between callbacks
      const killedAt = Date.now();
      await victim.kill();
      started.delete(victim);
      // A request already written to the endpoint's socket may be read just after the kill.
      faults.push({ kind: 'kill -9', instance: victimId, from: killedAt - IN_FLIGHT_MS, to: killedAt + 200 });
      const takeoverMs = await ownsAllAfter(survivor, killedAt);
      const firedMs = await everyJobFiredBy(endpoint, survivorId, killedAt);
      figures.killTakeoverMs.push(takeoverMs);
      figures.killFiredMs.push(firedMs);
      t.diagnostic(`round ${round + 1}: ${survivorId} owns every shard ${takeoverMs} ms after the kill, fired every job by ${firedMs} ms`);
      assert.ok(takeoverMs <= TAKEOVER_LIMIT_MS, `round ${round + 1}: takeover took ${takeoverMs} ms`);
      assert.ok(firedMs <= TAKEOVER_LIMIT_MS, `round ${round + 1}: every job fired again after ${firedMs} ms`);

      const replacement = await start(config); // the killed server comes back: ready once it holds its share
      pair = [survivor, replacement];
      await balanced(pair);
    }
    const repeats = checkRepeats('kill -9');
    t.diagnostic(`slots fired twice: ${JSON.stringify(repeats)} (callbacks in flight at a kill)`);
    assert.ok((repeats['kill -9'] ?? 0) <= KILL_ROUNDS * JOBS, 'at most one callback in flight per job at each kill');
  });

  test('SIGTERM of one: its shards move to the other at once, no acknowledged write lost', async (t) => {
    const [leaving, staying] = pair;
    const stayingId = (await shardStatus(staying)).instanceId;
    // Writers: one key each at a time, alternating between the servers (forwarded half the time).
    // Per key: the last interval acknowledged (201), and those sent after it without an acknowledgement.
    const acknowledged = new Map<string, number>();
    const unsure = new Map<string, number[]>();
    const answers = new Map<string, number>();
    let writing = true;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let n = 0; writing; n++) {
        const key = `term/w${w}-${n % 10}`;
        const interval = 3_600 + n;
        const target = pair[n % 2];
        let status: number | null = null;
        try {
          status = (await target.request('PUT', `/jobs/${key}?interval=${interval}`)).status;
        } catch {
          // no answer (the server closed its listener): may or may not have been applied
        }
        const label = `${target === leaving ? 'to leaving' : 'to staying'} ${status ?? 'no answer'}`;
        answers.set(label, (answers.get(label) ?? 0) + 1);
        if (status === 201) {
          acknowledged.set(key, interval);
          unsure.delete(key);
        } else {
          unsure.set(key, [...(unsure.get(key) ?? []), interval]);
          if (status === null || status === 503) await sleep(20);
        }
      }
    });
    await sleep(1_000);
    const stoppedAt = Date.now();
    const exit = leaving.stop();
    const handoffMs = await ownsAllAfter(staying, stoppedAt);
    assert.equal(await exit, 0, 'a clean exit');
    started.delete(leaving);
    figures.sigtermHandoffMs = handoffMs;
    await sleep(1_000); // writes go on, all to the staying server now
    writing = false;
    await Promise.all(writers);
    t.diagnostic(`handoff after SIGTERM: ${handoffMs} ms; answers: ${JSON.stringify(Object.fromEntries(answers))}`);
    assert.ok(handoffMs <= TAKEOVER_LIMIT_MS, `handoff took ${handoffMs} ms`);
    assert.ok(acknowledged.size > 0, 'writes were acknowledged');

    const rows = new Map(
      (
        (await mysqlQuery(`SELECT path, body, \`interval\` FROM \`${db.table}\` WHERE path = 'term'`)) as {
          path: string;
          body: string;
          interval: string;
        }[]
      ).map((row) => [`${row.path}/${row.body}`, Number(row.interval)]),
    );
    for (const key of new Set([...acknowledged.keys(), ...unsure.keys()])) {
      const allowed = [...(acknowledged.has(key) ? [acknowledged.get(key)] : []), ...(unsure.get(key) ?? [])];
      const row = rows.get(key);
      if (acknowledged.has(key)) assert.ok(row !== undefined, `${key}: acknowledged, not in the table`);
      if (row !== undefined) assert.ok(allowed.includes(row), `${key}: the table has interval ${row}, allowed ${allowed.join(', ')}`);
      const memory = await staying.request('GET', `/jobs/${key}`);
      assert.equal(memory.headers.get('dalga-instance'), stayingId);
      if (row === undefined) assert.equal(memory.status, 404, `${key}: in memory, not in the table`);
      else assert.equal(memory.json?.interval, row, `${key}: memory equals the table`);
    }
    checkRepeats('SIGTERM'); // a graceful handover repeats nothing

    pair = [staying, await start(config)];
    await balanced(pair);
  });

  test('a server that loses its database stops firing, the other takes its shards; back, it drops them and takes its share again', async (t) => {
    // The server behind the proxy replaces one of the two.
    const [direct, replaced] = pair;
    assert.equal(await replaced.stop(), 0);
    started.delete(replaced);
    const proxied = await start(proxiedConfig);
    pair = [direct, proxied];
    const statuses = await balanced(pair);
    const [directId, oldId] = statuses.map((status) => status.instanceId);
    const oldJobs = [...ownerOfEach(statuses)].filter(([, owner]) => owner.instanceId === oldId).map(([key]) => key);
    assert.ok(oldJobs.length > 0, 'the proxied server owns some jobs');
    await endpoint.waitFor((c) => instanceOf(c) === oldId, oldJobs.length, 10_000);
    const lostBefore = await metric(proxied, 'dalga_shard_handoffs_total{kind="lost"}');

    const cutAt = Date.now();
    proxy.cut();
    faults.push({ kind: 'database cut', instance: oldId, from: cutAt - IN_FLIGHT_MS, to: cutAt + 2_000 });
    figures.cutTakeoverMs = await ownsAllAfter(direct, cutAt);
    figures.cutFiredMs = await everyJobFiredBy(endpoint, directId, cutAt);
    t.diagnostic(`${directId} owns every shard ${figures.cutTakeoverMs} ms after the cut, fired every job by ${figures.cutFiredMs} ms`);
    assert.ok(figures.cutTakeoverMs <= TAKEOVER_LIMIT_MS, `takeover took ${figures.cutTakeoverMs} ms`);
    assert.ok(figures.cutFiredMs <= TAKEOVER_LIMIT_MS, `every job fired again after ${figures.cutFiredMs} ms`);

    const oldStatus = await shardStatus(proxied);
    assert.equal(oldStatus.state, 'suspended', 'the server without a database says so');
    for (const key of oldJobs) {
      const through = await proxied.request('GET', `/jobs/${key}`);
      assert.equal(through.status, 503, `${key} through the suspended server: ${through.text}`);
      assert.match(through.json.error, /^suspended: /);
      const owner = await direct.request('GET', `/jobs/${key}`);
      assert.equal(owner.status, 200);
      assert.equal(owner.headers.get('dalga-instance'), directId);
    }
    // The old server stopped firing when its lease lapsed (2 s after its last renewal, at the latest).
    const late = endpoint.matching((c) => instanceOf(c) === oldId && c.at > cutAt + 2_000);
    assert.deepEqual(late.map(slotOf), [], 'no callback from the old server after its lease ran out');

    // The database comes back: the old server finds its shards taken, drops them, and takes its share back.
    const resumedAt = Date.now();
    proxy.resume();
    const back = await balanced(pair);
    t.diagnostic(`rebalanced ${Date.now() - resumedAt} ms after the connection came back: ${back.map((s) => s.owned.length).join(' + ')} shards`);
    const lost = (await metric(proxied, 'dalga_shard_handoffs_total{kind="lost"}')) - lostBefore;
    assert.equal(lost, oldStatus.owned.length, 'the old server dropped every shard it had held, as lost');
    const since = Date.now();
    await sleep(2_000);
    const fired = endpoint.matching((c) => c.at >= since);
    const owners = ownerOfEach(back);
    for (const key of jobKeys) {
      assert.deepEqual(
        [...new Set(fired.filter((c) => keyOf(c) === key).map(instanceOf))],
        [owners.get(key)?.instanceId],
        `${key} fired by its owner`,
      );
    }
    const repeats = checkRepeats('database cut');
    t.diagnostic(`slots fired twice: ${JSON.stringify(repeats)}`);
  });
});
