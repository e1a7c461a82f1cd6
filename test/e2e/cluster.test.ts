/**
 * The cluster on MySQL (issue 13): three servers on one table (64 shards), a few hundred jobs
 * firing every second, and PUT/DELETE/PATCH through random servers with every answer in a ledger
 * of acknowledged writes. Then, in turn: kill -9 of one server; SIGSTOP of another for longer
 * than the lease, then SIGCONT; a fourth server joins; SIGTERM of one. After each step, once the
 * cluster has settled (by the live servers' /status: each ready, seeing exactly the live servers,
 * every shard owned and loaded by the one rendezvous hashing gives it):
 * - every acknowledged write is in the table, and the owner's memory equals the table (GET through
 *   a random server, forwarded to the owner, which names itself in Dalga-Instance);
 * - the table never goes back: no job's next_sched is behind a slot already called back (a stale
 *   outcome of a server whose shard was taken would put one back);
 * - every due slot fired: no gap in a job's Dalga-Sched longer than the interval plus the takeover
 *   bound, and every job fired after the step;
 * - callbacks come from every live server, each only for the jobs of the shards it owns;
 * - no slot (path, body, Dalga-Sched) fired twice, except callbacks in flight at a kill or pause:
 *   at most one per job, first made by the faulted server shortly before the fault (or as it
 *   resumed), again by another after it. None at a join or a SIGTERM (handovers drain first).
 * Takeover after kill -9 (to every shard owned and loaded by a survivor, and every job of the dead
 * server's shards fired again) is asserted <= 5 s; handoff times on join and SIGTERM are reported.
 * Each step prints one CLUSTER-STEP line.
 */
import assert from 'node:assert/strict';
import type { DalgaStatus } from '../../src/client/dalga-client.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rendezvous } from '../../src/cluster/rendezvous.js';
import { ShardMap } from '../../src/cluster/shard-map.js';
import { ClusterApiLoad } from '../helpers/cluster-api-load.js';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, mysqlQuery, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer, type ReceivedCallback } from '../helpers/endpoint-server.js';
import { sleep } from '../helpers/eventually.js';
import { SeededRandom } from '../helpers/seeded-random.js';
import { describeState, type KeyState, WriteLedger } from '../helpers/write-ledger.js';

const SHARDS = 64;
const TICK_JOBS = 300;
const INTERVAL_MS = 1_000;
const API_KEYS = 120;
const WORKERS = 6;
const TAKEOVER_LIMIT_MS = 5_000;
/** The longest a job may go without a slot: one interval, plus the takeover. */
const GAP_LIMIT_MS = INTERVAL_MS + TAKEOVER_LIMIT_MS;
/** Longer than the lease (2.5 s) plus a round and a load, so the takeover happens during the pause. */
const PAUSE_MS = 6_000;
/** How long the cluster runs after settling before the checks (each job fires about twice). */
const OBSERVE_MS = 2_500;
/** The endpoint answers each callback after 0 to this many ms, so that some are in flight at every fault. */
const ENDPOINT_DELAY_MS = 200;
/** A callback made longer than this before a fault had its outcome written (its slot cannot be made again). */
const IN_FLIGHT_MS = 3_000;
/** A callback sent before a kill may be read by the endpoint a little after it. */
const ARRIVAL_SLACK_MS = 250;
const SECTIONS = (baseUrl: string) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n\n[cluster]\nshards = ${SHARDS}\n`;

interface Member {
  name: string;
  dalga: DalgaProcess;
  id: string;
}

/** A kill or pause: the slots its server had in flight may be made again by another. */
interface Fault {
  step: string;
  member: Member;
  at: number;
  resumedAt?: number;
}

type StatusJson = DalgaStatus;

interface Row {
  path: string;
  body: string;
  interval: string | null;
  next_run: string | null;
  next_sched: string;
}

/** DATETIME(3) text (UTC) or an RFC 3339 time, as ms; null stays null. */
function ms(time: string | null | undefined): number | null {
  if (time === null || time === undefined) return null;
  return Date.parse(time.includes('T') ? time : `${time.replace(' ', 'T')}Z`);
}

const shardMap = new ShardMap(SHARDS);
const tickBodies = Array.from({ length: TICK_JOBS }, (_, i) => `j${i}`);
const apiBodies = Array.from({ length: API_KEYS }, (_, i) => `k${i}`);
const instanceOf = (callback: ReceivedCallback) => String(callback.headers['dalga-instance']);
const schedOf = (callback: ReceivedCallback) => Date.parse(String(callback.headers['dalga-sched']));
const slotOf = (callback: ReceivedCallback) => `${callback.path}/${callback.body} ${String(callback.headers['dalga-sched'])}`;

async function statusOf(member: Member): Promise<StatusJson | null> {
  try {
    const response = await fetch(`${member.dalga.url}/status`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 ? ((await response.json()) as StatusJson) : null;
  } catch {
    return null;
  }
}

/** Per shard its owner's id when the cluster of `live` has settled; else what is still moving. */
async function settledOwners(live: Member[]): Promise<string[] | string> {
  const ids = live.map((member) => member.id).sort();
  const wanted = rendezvous(ids, SHARDS);
  const statuses = await Promise.all(live.map(statusOf));
  const owners: (string | null)[] = new Array(SHARDS).fill(null);
  for (const [i, status] of statuses.entries()) {
    const name = live[i].name;
    if (status === null) return `${name}: no /status`;
    if (status.state !== 'ready') return `${name} is ${status.state}`;
    const seen = status.instances.map((instance) => instance.id).sort();
    if (seen.join(' ') !== ids.join(' ')) return `${name} sees ${seen.length} live servers`;
    if (status.shards.loading.length > 0 || status.shards.releasing.length > 0) {
      return `${name} is loading ${status.shards.loading.length} and releasing ${status.shards.releasing.length} shards`;
    }
    for (const shard of status.shards.owned) {
      if (owners[shard] !== null) return `shard ${shard} held by two (between two /status answers)`;
      owners[shard] = status.instance_id;
    }
  }
  const misplaced = owners.filter((owner, shard) => owner !== wanted[shard]).length;
  return misplaced === 0 ? (owners as string[]) : `${misplaced} shards not (yet) owned where rendezvous puts them`;
}

/** Polls until the cluster of `live` has settled; `at`: when the settled answers were in. */
async function waitSettled(live: Member[], what: string, timeoutMs = 20_000): Promise<{ at: number; owners: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await settledOwners(live);
    if (typeof view !== 'string') return { at: Date.now(), owners: view };
    if (Date.now() > deadline) throw new Error(`${what}: the cluster did not settle within ${timeoutMs} ms: ${view}`);
    await sleep(50);
  }
}

/** Runs `count` requests, at most 20 at a time. */
async function inBatches<T>(count: number, request: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += 20) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(20, count - start) }, (_, j) => request(start + j)))));
  }
  return results;
}

/** The fault a repeated slot is explained by: its one copy from the faulted server in flight at the fault, the other after it. */
function explainedBy(copies: ReceivedCallback[], faults: Fault[]): Fault | null {
  if (copies.length !== 2) return null;
  for (const fault of faults) {
    const mine = copies.filter((copy) => instanceOf(copy) === fault.member.id);
    const others = copies.filter((copy) => instanceOf(copy) !== fault.member.id);
    if (mine.length !== 1 || others.length !== 1) continue;
    const first = mine[0].at;
    const beforeFault = first >= fault.at - IN_FLIGHT_MS && first <= fault.at + ARRIVAL_SLACK_MS;
    // Begun before the pause, sent as the process went on.
    const asResumed = fault.resumedAt !== undefined && first >= fault.resumedAt && first <= fault.resumedAt + 1_000;
    if ((beforeFault || asResumed) && others[0].at >= fault.at) return fault;
  }
  return null;
}

describe('a cluster of servers on one MySQL table: kill -9, SIGSTOP, join, SIGTERM', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let config: string;
  let load: ClusterApiLoad;
  const random = new SeededRandom(SeededRandom.seedFrom('CLUSTER_SEED'));
  const ledger = new WriteLedger();
  /** The servers running now, and every server started. */
  const members: Member[] = [];
  const everyone: Member[] = [];
  const started = new Set<DalgaProcess>();
  const faults: Fault[] = [];
  /** Acknowledged writes counted at the last check. */
  let acknowledgedBefore = 0;
  const startedAt = Date.now();

  async function startMember(name: string, waitReady: boolean): Promise<Member> {
    const dalga = await DalgaProcess.start(config, { waitReady, timeoutMs: 30_000 });
    started.add(dalga);
    let status = await statusOf({ name, dalga, id: '' });
    for (let tries = 0; status === null && tries < 100; tries++) {
      await sleep(50);
      status = await statusOf({ name, dalga, id: '' });
    }
    assert.ok(status, `${name} answers /status`);
    const member = { name, dalga, id: status.instance_id };
    members.push(member);
    everyone.push(member);
    return member;
  }

  const nameOf = (id: string) => everyone.find((member) => member.id === id)?.name ?? id;
  const target = (member: Member) => ({ dalga: member.dalga, id: member.id });
  const callbacksFrom = (member: Member, from: number, to: number) =>
    endpoint.received.filter((callback) => instanceOf(callback) === member.id && callback.at >= from && callback.at <= to).length;

  before(async () => {
    db = createTestDatabase('mysql');
    endpoint = await EndpointServer.start();
    endpoint.responder = () => ({ status: 200, delayMs: random.int(ENDPOINT_DELAY_MS + 1) });
    config = writeConfig(db, SECTIONS(endpoint.baseUrl));
    const created = await runCli(['-config', config, '-create-table']);
    assert.equal(created.code, 0, created.stderr);
    await startMember('A', true);
    await Promise.all([startMember('B', true), startMember('C', true)]);
    load = new ClusterApiLoad({
      path: 'api',
      bodies: apiBodies,
      ledger,
      workers: WORKERS,
      random,
      firstIntervalSeconds: 3_600, // never due during the test: these rows change only by the API
    });
  });

  after(async () => {
    for (const dalga of started) dalga.resume();
    await load?.stop();
    for (const dalga of started) await dalga.kill().catch(() => {});
    if (process.env.CLUSTER_LOG_DIR) {
      for (const member of everyone) {
        writeFileSync(join(process.env.CLUSTER_LOG_DIR, `${member.name}.log`), member.dalga.output);
      }
    }
    await endpoint?.close();
    if (db) await mysqlQuery(`DROP TABLE IF EXISTS \`${db.table}_shards\`, \`${db.table}_instances\``).catch(() => {});
    await db?.drop();
    console.log(
      `CLUSTER-SUMMARY ${JSON.stringify({
        seed: random.seed,
        wall_ms: Date.now() - startedAt,
        callbacks: endpoint?.received.length,
        acknowledged_writes: ledger.acknowledged,
        unknown_writes: ledger.unknown,
        forwarded_answers: load?.forwarded,
        statuses: Object.fromEntries(load?.statuses ?? []),
      })}`,
    );
  });

  /**
   * After a step: lets the settled cluster run for OBSERVE_MS, holds the API load, checks
   * everything the file's comment lists, prints the step's line, and lets the load go on.
   */
  async function verify(
    step: string,
    live: Member[],
    settled: { at: number; owners: string[] },
    stepStart: number,
    figures: Record<string, number | string | null>,
  ): Promise<void> {
    await sleep(Math.max(0, settled.at + OBSERVE_MS - Date.now()));
    load.halt();
    await load.idle();
    const problems: string[] = [];
    const callbacks = endpoint.received.slice();
    const rows = new Map(
      (
        (await mysqlQuery(
          `SELECT path, body, \`interval\`, CAST(next_run AS CHAR) AS next_run, CAST(next_sched AS CHAR) AS next_sched FROM \`${db.table}\``,
        )) as Row[]
      ).map((row) => [`${row.path}/${row.body}`, row]),
    );
    const { owners } = settled;

    // Every acknowledged write: in the table, and in the owner's memory as in the table.
    let exact = 0;
    await inBatches(API_KEYS, async (i) => {
      const key = `api/${apiBodies[i]}`;
      const row = rows.get(key);
      const state: KeyState = row ? { kind: 'present', interval: Number(row.interval), enabled: row.next_run !== null } : { kind: 'absent' };
      if (!ledger.allows(key, state)) {
        problems.push(`${key}: the table has ${describeState(state)}, the ledger allows ${ledger.possible(key).map(describeState).join(' | ')}`);
      } else if (ledger.possible(key).length === 1) exact++;
      const via = random.pick(live);
      const memory = await via.dalga.request('GET', `/jobs/${key}`);
      const answeredBy = memory.headers.get('dalga-instance');
      if (answeredBy !== owners[shardMap.of('api', apiBodies[i])])
        problems.push(`GET ${key} through ${via.name} answered by ${answeredBy}, not its owner`);
      if (!row) {
        if (memory.status !== 404) problems.push(`${key}: not in the table, its owner answers ${memory.status} ${memory.text}`);
      } else if (
        memory.status !== 200 ||
        String(memory.json.interval) !== row.interval ||
        ms(memory.json.next_run) !== ms(row.next_run) ||
        ms(memory.json.next_sched) !== ms(row.next_sched)
      ) {
        problems.push(`${key}: the table has ${JSON.stringify(row)}, its owner's memory ${memory.status} ${memory.text}`);
      }
      ledger.observed(key, state);
    });

    // The firing jobs: each in the table, never behind a slot already called back, served by its owner.
    const lastSched = new Map<string, number>();
    for (const callback of callbacks) {
      const key = `tick/${callback.body}`;
      lastSched.set(key, Math.max(lastSched.get(key) ?? 0, schedOf(callback)));
    }
    await inBatches(TICK_JOBS, async (i) => {
      const key = `tick/${tickBodies[i]}`;
      const row = rows.get(key);
      if (!row) return void problems.push(`${key}: not in the table`);
      const behind = (lastSched.get(key) ?? 0) - (ms(row.next_sched) as number);
      if (behind > 0) problems.push(`${key}: the table's next_sched ${row.next_sched} is ${behind} ms behind a slot already called back`);
      const via = random.pick(live);
      const memory = await via.dalga.request('GET', `/jobs/${key}`);
      if (memory.status !== 200) problems.push(`${key}: GET through ${via.name} answered ${memory.status} ${memory.text}`);
      if (memory.headers.get('dalga-instance') !== owners[shardMap.of('tick', tickBodies[i])]) {
        problems.push(`GET ${key} answered by ${memory.headers.get('dalga-instance')}, not its owner`);
      }
    });

    // Since the cluster settled: every live server fires, each only its own shards' jobs, and every job fired.
    const since = callbacks.filter((callback) => callback.at >= settled.at + 500);
    const firing = new Set(since.map(instanceOf));
    for (const member of live) if (!firing.has(member.id)) problems.push(`${member.name} made no callback since the cluster settled`);
    const misfired = since.filter((callback) => instanceOf(callback) !== owners[shardMap.of('tick', callback.body)]);
    if (misfired.length > 0)
      problems.push(`${misfired.length} callbacks since settling from a server not owning the job, e.g. ${slotOf(misfired[0])}`);
    const firedJobs = new Set(since.map((callback) => callback.body));
    const silent = tickBodies.filter((body) => !firedJobs.has(body));
    if (silent.length > 0) {
      const byOwner = new Map<string, number>();
      for (const body of silent) {
        const owner = nameOf(owners[shardMap.of('tick', body)]);
        byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
      }
      const last = callbacks.filter((callback) => callback.body === silent[0]).at(-1);
      problems.push(
        `${silent.length} jobs made no callback since the cluster settled (by owner: ${JSON.stringify(Object.fromEntries(byOwner))}), ` +
          `e.g. tick/${silent[0]} in shard ${shardMap.of('tick', silent[0])}, last called back by ${last ? `${nameOf(instanceOf(last))} ${last.at - settled.at} ms after settling` : 'nobody'}`,
      );
    }
    const strays = callbacks.filter((callback) => callback.path !== '/tick');
    if (strays.length > 0) problems.push(`${strays.length} callbacks of jobs that are never due, e.g. ${slotOf(strays[0])}`);

    // Every due slot: no gap longer than GAP_LIMIT_MS in a job's Dalga-Sched sequence.
    const scheds = new Map<string, Set<number>>();
    for (const callback of callbacks) {
      const set = scheds.get(callback.body) ?? new Set<number>();
      set.add(schedOf(callback));
      scheds.set(callback.body, set);
    }
    let maxGap = 0;
    for (const [body, set] of scheds) {
      const sorted = [...set].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) {
        const gap = sorted[i] - sorted[i - 1];
        if (sorted[i] >= stepStart) maxGap = Math.max(maxGap, gap);
        if (gap > GAP_LIMIT_MS && sorted[i] >= stepStart) {
          problems.push(`tick/${body}: no slot between ${new Date(sorted[i - 1]).toISOString()} and ${new Date(sorted[i]).toISOString()}`);
        }
      }
    }

    // Slots fired twice: only those in flight at a kill or pause, at most one per job and fault.
    const bySlot = new Map<string, ReceivedCallback[]>();
    for (const callback of callbacks) bySlot.set(slotOf(callback), [...(bySlot.get(slotOf(callback)) ?? []), callback]);
    let duplicates = 0;
    const perJobAndFault = new Set<string>();
    for (const [slot, copies] of bySlot) {
      if (copies.length < 2 || Math.max(...copies.map((copy) => copy.at)) < stepStart) continue;
      const fault = explainedBy(copies, faults);
      if (fault === null) {
        const who = copies.map((copy) => `${nameOf(instanceOf(copy))} at +${copy.at - stepStart} ms`);
        problems.push(`${slot} fired ${copies.length} times (${who.join(', ')}), not explained by a kill or pause`);
        continue;
      }
      if (fault.step === step) duplicates++;
      const jobAndFault = `${copies[0].body} ${fault.step}`;
      if (perJobAndFault.has(jobAndFault)) problems.push(`tick/${copies[0].body}: more than one slot repeated after ${fault.step}`);
      perJobAndFault.add(jobAndFault);
    }
    const fault = faults.find((f) => f.step === step);

    const acknowledged = ledger.acknowledged - acknowledgedBefore;
    acknowledgedBefore = ledger.acknowledged;
    console.log(
      `CLUSTER-STEP ${JSON.stringify({
        step,
        ...figures,
        duplicates,
        // Callbacks the faulted server made in the last half second: about those whose outcome it had not written yet.
        in_flight_at_fault: fault ? callbacksFrom(fault.member, fault.at - 500, fault.at + ARRIVAL_SLACK_MS) : null,
        max_gap_ms: maxGap,
        acknowledged_writes: acknowledged,
        keys_checked_exactly: exact,
        servers: live.map((member) => member.name).join(''),
        callbacks: callbacks.filter((callback) => callback.at >= stepStart).length,
      })}`,
    );
    load.resume();
    assert.deepEqual(load.anomalies, [], 'answers no server may give');
    assert.equal(problems.length, 0, `${step}: ${problems.length} problems:\n${problems.slice(0, 15).join('\n')}`);
  }

  test('three servers share the shards; jobs fire on their owners, writes go through any server', async () => {
    const live = members.slice();
    const stepStart = Date.now();
    await waitSettled(live, 'three servers');
    await inBatches(TICK_JOBS, async (i) => {
      for (;;) {
        const put = await random.pick(live).dalga.request('PUT', `/jobs/tick/${tickBodies[i]}?interval=${INTERVAL_MS / 1000}`);
        if (put.status === 503) {
          await sleep(200); // a lease renewal late on a loaded machine: nothing changed, retry
          continue;
        }
        assert.equal(put.status, 201, put.text);
        return;
      }
    });
    load.targets = live.map(target);
    load.resume();
    const settled = await waitSettled(live, 'three servers');
    await sleep(INTERVAL_MS); // every job has fired before the first check
    await verify('start', live, { ...settled, at: Date.now() }, stepStart, {});
  });

  /** ms from `since` until every job of `bodies` made a callback from a server other than `victim` (Infinity if one never did). */
  function refiredAfter(victim: Member, bodies: string[], since: number): number {
    const first = new Map<string, number>();
    for (const callback of endpoint.received) {
      if (callback.at > since && instanceOf(callback) !== victim.id && !first.has(callback.body)) first.set(callback.body, callback.at);
    }
    return Math.max(0, ...bodies.map((body) => (first.get(body) ?? Infinity) - since));
  }

  test('kill -9: the survivors own and load every shard within 5 s; every job of the dead server fires again', async () => {
    const [victim, ...survivors] = members;
    const { owners } = await waitSettled(members.slice(), 'before the kill');
    const victimJobs = tickBodies.filter((body) => owners[shardMap.of('tick', body)] === victim.id);
    load.targets = survivors.map(target);
    const killedAt = Date.now();
    await victim.dalga.kill();
    faults.push({ step: 'kill -9', member: victim, at: killedAt });
    members.splice(members.indexOf(victim), 1);
    const settled = await waitSettled(survivors, 'takeover after kill -9', 15_000);
    const takeoverMs = settled.at - killedAt;
    await sleep(Math.max(0, killedAt + TAKEOVER_LIMIT_MS + 500 - Date.now()));
    const refireMs = refiredAfter(victim, victimJobs, killedAt);
    await verify('kill -9', survivors, settled, killedAt, { takeover_ms: takeoverMs, refire_ms: refireMs, victim_jobs: victimJobs.length });
    assert.ok(takeoverMs <= TAKEOVER_LIMIT_MS, `every shard owned and loaded by a survivor ${takeoverMs} ms after kill -9`);
    assert.ok(refireMs <= TAKEOVER_LIMIT_MS, `every job of the dead server's shards fired again ${refireMs} ms after kill -9`);
  });

  test('SIGSTOP past the lease: the other takes over; resumed, the server changed nothing and gets its share back', async () => {
    const [victim, ...others] = members;
    const { owners } = await waitSettled(members.slice(), 'before the pause');
    const victimJobs = tickBodies.filter((body) => owners[shardMap.of('tick', body)] === victim.id);
    const pausedAt = Date.now();
    victim.dalga.pause(); // the load goes on sending to it too: those requests wait in its sockets
    const fault: Fault = { step: 'SIGSTOP', member: victim, at: pausedAt };
    faults.push(fault);
    const takenOver = await waitSettled(others, 'takeover of a paused server', PAUSE_MS - 500);
    const takeoverMs = takenOver.at - pausedAt;
    await sleep(Math.max(0, pausedAt + PAUSE_MS - Date.now()));
    const refireMs = refiredAfter(victim, victimJobs, pausedAt);
    victim.dalga.resume();
    fault.resumedAt = Date.now();
    const settled = await waitSettled(members.slice(), 'the resumed server back in', 15_000);
    await verify('SIGSTOP', members.slice(), settled, pausedAt, {
      takeover_ms: takeoverMs,
      refire_ms: refireMs,
      handoff_back_ms: settled.at - fault.resumedAt,
      victim_jobs: victimJobs.length,
      fenced_writes_logged: victim.dalga.output.split('"msg":"a write found that another Dalga server took').length - 1,
    });
  });

  test('a fourth server joins: it gets its share by handover, nothing fires twice', async () => {
    const stepStart = Date.now();
    const joined = await startMember('D', false);
    const listeningAt = Date.now();
    load.targets = members.map(target);
    const settled = await waitSettled(members.slice(), 'a server joining', 20_000);
    await verify('join', members.slice(), settled, stepStart, { handoff_ms: settled.at - listeningAt });
    assert.equal((await joined.dalga.request('GET', '/readyz')).status, 200);
  });

  test('SIGTERM: the server drains and hands its shards over, nothing fires twice', async () => {
    const victim = members.find((member) => member.name === 'C') ?? members[0];
    const others = members.filter((member) => member !== victim);
    load.targets = others.map(target);
    const stoppedAt = Date.now();
    const exited = victim.dalga.stop().then((code) => ({ code, ms: Date.now() - stoppedAt }));
    const settled = await waitSettled(others, 'handoff after SIGTERM', 20_000);
    const { code, ms: exitMs } = await exited;
    members.splice(members.indexOf(victim), 1);
    await verify('SIGTERM', others, settled, stoppedAt, { handoff_ms: settled.at - stoppedAt, exit_ms: exitMs });
    assert.equal(code, 0, victim.dalga.output.slice(-2_000));
  });
});
