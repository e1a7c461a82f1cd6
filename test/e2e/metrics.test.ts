/**
 * GET /metrics on a live server: the numbers an operator alerts on follow what really happened
 * (callbacks by outcome, in flight and waiting, lag, database writes, the wheel per level).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer } from '../helpers/endpoint-server.js';

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('GET /metrics (live server)', () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let dalga: DalgaProcess;

  const metrics = async () => {
    const response = await dalga.request('GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  before(async () => {
    db = createTestDatabase('sqlite');
    endpoint = await EndpointServer.start();
    endpoint.responder = (callback) => {
      if (callback.path.startsWith('/hang')) return { hang: true };
      if (callback.path === '/invalid') return { status: 204 };
      if (callback.path === '/broken') return { status: 500 };
      return { status: 200, delayMs: 30 };
    };
    // max_running = 2: the third hanging job has to wait. Retries far away keep the counts exact.
    const config = writeConfig(db, `[endpoint]\nbaseurl = ${endpoint.baseUrl}\ntimeout = 2\n[jobs]\nmax_running = 2\nretry_interval = 3600\n`);
    dalga = await DalgaProcess.start(config);
  });

  after(async () => {
    await dalga?.stop();
    await endpoint?.close();
    await db?.drop();
  });

  test('in flight, waiting and lag while the endpoint hangs; then timeouts', async () => {
    for (const body of ['1', '2', '3']) {
      assert.equal((await dalga.request('PUT', `/jobs/hang/${body}?one-off=true&immediate=true`)).status, 201);
    }
    await endpoint.waitFor((c) => c.path === '/hang', 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const busy = await metrics();
    assert.equal(sample(busy, 'dalga_callbacks_in_flight'), 2);
    assert.equal(sample(busy, 'dalga_callbacks_waiting'), 1);
    const lag = sample(busy, 'dalga_lag_seconds') ?? NaN;
    assert.ok(lag >= 0.15 && lag < 2, `lag ${lag}`);
    const status = await dalga.request('GET', '/status');
    assert.equal(status.json.running_jobs, 2, 'the same numbers as /status');
    assert.equal(status.json.pending_jobs, 1);

    // endpoint.timeout = 2 s: two time out, the third runs and times out 2 s later.
    const done = await eventually('three timeouts', async () => {
      const text = await metrics();
      return sample(text, 'dalga_callbacks_total{outcome="timeout"}') === 3 ? text : undefined;
    });
    assert.equal(sample(done, 'dalga_callbacks_in_flight'), 0);
    assert.equal(sample(done, 'dalga_callbacks_waiting'), 0);
    assert.equal(sample(done, 'dalga_lag_seconds'), 0);
    assert.equal(sample(done, 'dalga_callbacks_total{outcome="200"}'), 0);
  });

  test('callbacks by outcome, their duration, and the database writes behind them', async () => {
    const before = await metrics();
    const upserts = sample(before, 'dalga_db_write_duration_seconds_count{operation="upsert"}') ?? 0;
    for (const path of ['ok', 'invalid', 'broken']) {
      assert.equal((await dalga.request('PUT', `/jobs/${path}/x?one-off=true&immediate=true`)).status, 201);
    }
    const text = await eventually('three more outcomes', async () => {
      const t = await metrics();
      return sample(t, 'dalga_write_back_batch_size_sum') === 6 ? t : undefined;
    });
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="200"}'), 1);
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="204"}'), 1);
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="failure"}'), 1);
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="timeout"}'), 3);
    assert.equal(sample(text, 'dalga_callback_duration_seconds_count'), 6);
    const seconds = sample(text, 'dalga_callback_duration_seconds_sum') ?? NaN;
    assert.ok(seconds >= 6 && seconds < 9, `three 2 s timeouts and three fast answers took ${seconds} s`);
    assert.equal(sample(text, 'dalga_callback_duration_seconds_bucket{le="0.5"}'), 3, 'three answers, none a timeout');
    assert.equal(sample(text, 'dalga_callback_duration_seconds_bucket{le="2.5"}'), 6, 'the timeouts took endpoint.timeout');

    // One PUT (sent one after another) = one upsert; 200 and 204 delete the one-off job; a failure
    // updates it for its retry. Outcomes written together share a statement (group commit).
    assert.equal(sample(text, 'dalga_db_write_duration_seconds_count{operation="upsert"}'), upserts + 3);
    assert.ok((sample(text, 'dalga_db_write_duration_seconds_count{operation="delete"}') ?? 0) >= 1);
    assert.ok((sample(text, 'dalga_db_write_duration_seconds_count{operation="update"}') ?? 0) >= 1);
    const statements = sample(text, 'dalga_write_back_batch_size_count') ?? 0;
    assert.ok(statements >= 1 && statements <= 6, `6 outcomes in ${statements} statements`);
  });

  test('jobs, disabled jobs and timers per wheel level match /status and /debug/wheel', async () => {
    await dalga.request('PUT', '/jobs/levels/soon?interval=5');
    await dalga.request('PUT', '/jobs/levels/hourly?interval=3600');
    await dalga.request('PUT', '/jobs/levels/yearly?interval=P1Y');
    await dalga.request('PUT', '/jobs/levels/off?interval=60');
    assert.equal((await dalga.request('PATCH', '/jobs/levels/off?disable=true')).status, 200);

    const text = await metrics();
    const status = (await dalga.request('GET', '/status')).json;
    const wheel = (await dalga.request('GET', '/debug/wheel')).json;
    assert.equal(sample(text, 'dalga_jobs'), status.total_jobs);
    assert.equal(sample(text, 'dalga_jobs_disabled'), 1);
    assert.equal(sample(text, 'dalga_ready'), 1);
    let sum = 0;
    for (const level of wheel.levels as { level: number; timers: number }[]) {
      assert.equal(sample(text, `dalga_wheel_timers{level="${level.level}"}`), level.timers, `level ${level.level}`);
      sum += level.timers;
    }
    assert.ok(sum >= 3, 'the three enabled periodic jobs are in the wheel');
    const occupied = (wheel.levels as { timers: number }[]).filter((l) => l.timers > 0).length;
    assert.ok(occupied >= 2, '5 s, 1 h and 1 y land on different levels');
  });

  test('API requests are counted by route pattern, never by job key', async () => {
    await dalga.request('GET', '/jobs/levels/hourly');
    await dalga.request('GET', '/jobs/levels/missing');
    const text = await metrics();
    assert.ok((sample(text, 'dalga_http_requests_total{method="GET",route="/jobs/:path/:body",status="200"}') ?? 0) >= 1);
    assert.ok((sample(text, 'dalga_http_requests_total{method="GET",route="/jobs/:path/:body",status="404"}') ?? 0) >= 1);
    assert.ok(!text.includes('hourly'), 'no job key in a label');
    assert.match(text, /^dalga_event_loop_delay_p99_seconds [\d.e-]+$/m);
    assert.match(text, /^process_cpu_seconds_total [\d.e-]+$/m);
  });
});
