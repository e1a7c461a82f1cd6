/**
 * The Metrics class as Prometheus sees it: the text exposition, read at scrape time from the
 * sources, and one registry per instance.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { callbackOutcome } from '../../src/metrics/callback-outcome.js';
import { Metrics, type MetricsSources } from '../../src/metrics/metrics.js';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  return {
    jobs: () => ({ total: 12, disabled: 3, failing: 4, writeBacksPending: 2 }),
    wheelLevels: () => [
      { level: 0, timers: 4 },
      { level: 1, timers: 0 },
      { level: 2, timers: 5 },
    ],
    dispatch: () => ({ running: 7, waiting: 9 }),
    lagSeconds: () => 1.5,
    loaded: () => true,
    ownedShards: () => 64,
    ...overrides,
  };
}

const open: Metrics[] = [];
function metrics(): Metrics {
  const m = new Metrics();
  open.push(m);
  return m;
}
afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

describe('callbackOutcome', () => {
  test('200 and 204 by status, timeouts by the client error, the rest failures', () => {
    assert.equal(callbackOutcome({ status: 200, error: null }), '200');
    assert.equal(callbackOutcome({ status: 204, error: null }), '204');
    assert.equal(callbackOutcome({ status: 500, error: 'endpoint answered 500' }), 'failure');
    assert.equal(callbackOutcome({ status: 201, error: 'endpoint answered 201' }), 'failure');
    assert.equal(callbackOutcome({ status: null, error: 'timeout: no answer within 100 ms' }), 'timeout');
    assert.equal(callbackOutcome({ status: null, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1' }), 'failure');
  });
});

describe('Metrics', () => {
  test('gauges are read from the sources at scrape time', async () => {
    const m = metrics();
    let total = 12;
    m.readFrom(sources({ jobs: () => ({ total, disabled: 3, failing: 4, writeBacksPending: 2 }) }));
    let text = await m.text();
    assert.equal(sample(text, 'dalga_jobs'), 12);
    assert.equal(sample(text, 'dalga_jobs_disabled'), 3);
    assert.equal(sample(text, 'dalga_jobs_failing'), 4);
    assert.equal(sample(text, 'dalga_write_backs_pending'), 2);
    assert.equal(sample(text, 'dalga_callbacks_in_flight'), 7);
    assert.equal(sample(text, 'dalga_callbacks_waiting'), 9);
    assert.equal(sample(text, 'dalga_lag_seconds'), 1.5);
    assert.equal(sample(text, 'dalga_ready'), 1);
    assert.equal(sample(text, 'dalga_owned_shards'), 64);
    assert.equal(sample(text, 'dalga_wheel_timers{level="0"}'), 4);
    assert.equal(sample(text, 'dalga_wheel_timers{level="1"}'), 0);
    assert.equal(sample(text, 'dalga_wheel_timers{level="2"}'), 5);
    total = 13;
    text = await m.text();
    assert.equal(sample(text, 'dalga_jobs'), 13, 'a later scrape sees the new value');
  });

  test('every callback outcome is exported from the start, then counted', async () => {
    const m = metrics();
    m.readFrom(sources());
    let text = await m.text();
    for (const outcome of ['200', '204', 'failure', 'timeout']) {
      assert.equal(sample(text, `dalga_callbacks_total{outcome="${outcome}"}`), 0, outcome);
    }
    m.observeCallback({ status: 200, error: null, startedAt: 1_000, finishedAt: 1_020 });
    m.observeCallback({ status: 200, error: null, startedAt: 1_000, finishedAt: 1_030 });
    m.observeCallback({ status: null, error: 'timeout: no answer within 2000 ms', startedAt: 0, finishedAt: 2_000 });
    m.observeCallback({ status: 503, error: 'endpoint answered 503', startedAt: 0, finishedAt: 5 });
    text = await m.text();
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="200"}'), 2);
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="204"}'), 0);
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="timeout"}'), 1);
    assert.equal(sample(text, 'dalga_callbacks_total{outcome="failure"}'), 1);
    assert.equal(sample(text, 'dalga_callback_duration_seconds_count'), 4);
    assert.equal(sample(text, 'dalga_callback_duration_seconds_sum'), 0.02 + 0.03 + 2 + 0.005);
    assert.equal(sample(text, 'dalga_callback_duration_seconds_bucket{le="0.025"}'), 2, '5 ms and 20 ms');
    assert.equal(sample(text, 'dalga_callback_duration_seconds_bucket{le="1"}'), 3);
  });

  test('database writes are timed by operation; reads are not, failures are counted', async () => {
    const m = metrics();
    m.observeStatement({ operation: 'upsert', write: true, ms: 3, ok: true });
    m.observeStatement({ operation: 'upsert', write: true, ms: 40, ok: true });
    m.observeStatement({ operation: 'update', write: true, ms: 2, ok: false });
    m.observeStatement({ operation: 'ping', write: false, ms: 1, ok: true });
    m.observeStatement({ operation: 'ping', write: false, ms: 10_000, ok: false });
    m.observeWriteBack(1);
    m.observeWriteBack(1);
    const text = await m.text();
    assert.equal(sample(text, 'dalga_db_write_duration_seconds_count{operation="upsert"}'), 2);
    assert.equal(sample(text, 'dalga_db_write_duration_seconds_bucket{le="0.005",operation="upsert"}'), 1);
    assert.equal(sample(text, 'dalga_db_write_duration_seconds_count{operation="update"}'), 1);
    assert.equal(sample(text, 'dalga_db_write_duration_seconds_count{operation="ping"}'), undefined);
    assert.equal(sample(text, 'dalga_db_errors_total{operation="update"}'), 1);
    assert.equal(sample(text, 'dalga_db_errors_total{operation="ping"}'), 1);
    assert.equal(sample(text, 'dalga_write_back_batch_size_count'), 2);
    assert.equal(sample(text, 'dalga_write_back_batch_size_bucket{le="1"}'), 2);
  });

  test('a blocked event loop shows in the p99 gauge; the next scrape starts afresh', async () => {
    const m = metrics();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the sampler start
    const blockedUntil = performance.now() + 120;
    while (performance.now() < blockedUntil) {
      // busy: the sampler's timer cannot run
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    let text = await m.text();
    const p99 = sample(text, 'dalga_event_loop_delay_p99_seconds') ?? NaN;
    assert.ok(p99 >= 0.08, `p99 ${p99} s after a 120 ms block`);
    assert.ok((sample(text, 'dalga_event_loop_delay_mean_seconds') ?? NaN) > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    text = await m.text();
    const after = sample(text, 'dalga_event_loop_delay_p99_seconds') ?? NaN;
    assert.ok(after < 0.05, `p99 ${after} s once the loop is idle again`);
  });

  test('process metrics are on the same registry, and two instances share nothing', async () => {
    const a = metrics();
    const b = metrics();
    a.observeCallback({ status: 200, error: null, startedAt: 0, finishedAt: 1 });
    const textA = await a.text();
    const textB = await b.text();
    assert.match(textA, /^process_resident_memory_bytes \d+/m);
    assert.match(textA, /^nodejs_heap_size_used_bytes \d+/m);
    assert.equal(sample(textA, 'dalga_callbacks_total{outcome="200"}'), 1);
    assert.equal(sample(textB, 'dalga_callbacks_total{outcome="200"}'), 0);
    assert.match(a.contentType, /^text\/plain; version=0\.0\.4/);
  });
});
