/**
 * 7. Soak: a loaded table, steady callbacks and API writes for a while. RSS drift after warm-up,
 * callback lag per time window, write latency per window, and event-loop responsiveness.
 *
 * Event loop: the server's own delay p99 from /metrics, scraped once per window (the gauge covers
 * the time since the previous scrape), when the server has it; and from outside, GET /healthz every
 * 100 ms over a kept-alive connection (event-loop delay + one trivial Koa request).
 */
import { monotonicUs, nowMs, sleep } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { DalgaServer, httpGet } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { bytes, count, ms, percent } from '../lib/format.js';
import { farFutureJob, jobBody, jobPath } from '../lib/jobs.js';
import { LoadClient, openLoop } from '../lib/load.js';
import { benchTable, createJobsTable, dropTable, insertJobs } from '../lib/mysql.js';
import { prng } from '../lib/random.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { mean, percentile, rounded, Samples, summarize } from '../lib/stats.js';

interface Window {
  from: number;
  lag: Samples;
  write: Samples;
  probe: Samples;
  rss: number[];
  writeErrors: number;
  writeErrorSamples: string[];
  /** The server's own event-loop delay p99 over the window (from /metrics), ms. */
  loopP99: number | null;
  /** V8 heap used and external memory at the window's end (prom-client defaults in /metrics), bytes. */
  heapUsed: number | null;
  external: number | null;
}

/** dalga_event_loop_delay_p99_seconds (since the previous scrape) if the server has it, else prom-client's default gauge. */
async function eventLoopMetricOf(url: string): Promise<string | null> {
  const metrics = await httpGet(`${url}/metrics`).catch(() => null);
  if (metrics?.status !== 200) return null;
  for (const name of ['dalga_event_loop_delay_p99_seconds', 'nodejs_eventloop_lag_p99_seconds']) {
    if (new RegExp(`^${name} `, 'm').test(metrics.text)) return name;
  }
  return null;
}

/** Values of the named gauges (unlabelled) in one /metrics scrape. */
async function scrape(url: string, names: string[]): Promise<(number | null)[]> {
  const metrics = await httpGet(`${url}/metrics`).catch(() => null);
  return names.map((name) => {
    const match = metrics ? new RegExp(`^${name} ([0-9.eE+-]+)`, 'm').exec(metrics.text) : null;
    return match ? Number(match[1]) : null;
  });
}

export const soak: Scenario = {
  name: 'soak',
  title: 'Soak',
  async run(ctx) {
    const size = bySize(ctx.mode, {
      quick: { jobs: 100_000, callbacks: 200, writes: 50, durationMs: 30_000, windowMs: 5_000, warmupMs: 10_000 },
      full: { jobs: 1_000_000, callbacks: 1_000, writes: 200, durationMs: 300_000, windowMs: 30_000, warmupMs: 60_000 },
    });
    const table = benchTable('soak');
    await createJobsTable(table);
    ctx.defer(() => dropTable(table));
    const now = Date.now();
    // The periodic jobs that make the callbacks: interval 1 s, spread evenly over the second.
    const firstSlot = Math.ceil((now + 60_000) / 1000) * 1000;
    const periodic = size.callbacks;
    await insertJobs(table, size.jobs + periodic, (i) =>
      i < size.jobs
        ? farFutureJob(i, now)
        : (() => {
            const j = i - size.jobs;
            const slot = firstSlot + Math.floor((j * 1000) / periodic);
            return { path: 'soak-cb', body: jobBody(j), interval: '1', oneOff: false, nextRun: slot, nextSched: slot, createdAt: now };
          })(),
    );
    ctx.log(`inserted ${count(size.jobs)} jobs + ${periodic} one-second jobs`);
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    const server = await DalgaServer.start({ runtime: ctx.runtime, dir: ctx.dir, table, endpointBaseUrl: endpoint.baseUrl, cpuProfile: ctx.profile });
    ctx.defer(() => server.stop());
    ctx.log(`server ready in ${ms(server.readyMs)}, RSS ${bytes(server.memory()?.rss ?? NaN)}`);
    const eventLoopMetric = await eventLoopMetricOf(server.url);

    // The periodic jobs were due 60 s ahead; move them to start now, through the API (PUT with first-run).
    const starts = Math.ceil((Date.now() + 1_500) / 1000) * 1000;
    const client = new LoadClient(server.url, 32);
    for (let j = 0; j < periodic; j += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, periodic - j) }, (_, d) => {
          const first = new Date(starts + Math.floor(((j + d) * 1000) / periodic)).toISOString();
          return client.send({ method: 'PUT', path: `/jobs/soak-cb/${jobBody(j + d)}?interval=1&first-run=${first}` });
        }),
      );
    }
    await sleep(Math.max(0, starts - Date.now()));

    const t0 = nowMs();
    const windows: Window[] = [];
    const windowAt = (t: number): Window => {
      const index = Math.max(0, Math.floor((t - t0) / size.windowMs));
      while (windows.length <= index)
        windows.push({
          from: windows.length * size.windowMs,
          lag: new Samples(),
          write: new Samples(),
          probe: new Samples(),
          rss: [],
          writeErrors: 0,
          writeErrorSamples: [],
          loopP99: null,
          heapUsed: null,
          external: null,
        });
      return windows[index];
    };
    endpoint.reset();
    endpoint.onArrival = (arrival) => windowAt(arrival.at).lag.push(arrival.at - arrival.sched);
    const rssSamples: { t: number; rss: number }[] = [];
    let running = true;
    const sampler = (async () => {
      while (running) {
        const memory = server.memory();
        if (memory) {
          rssSamples.push({ t: nowMs() - t0, rss: memory.rss });
          windowAt(nowMs()).rss.push(memory.rss);
        }
        await sleep(1_000);
      }
    })();
    const prober = (async () => {
      const probe = new LoadClient(server.url, 1);
      while (running) {
        const sent = await probe.send({ method: 'GET', path: '/healthz' });
        if (sent.status === 200) windowAt(sent.endedAt).probe.push(sent.endedAt - sent.startedAt);
        await sleep(100);
      }
      probe.close();
    })();
    const scraper = (async () => {
      if (!eventLoopMetric) return;
      await scrape(server.url, [eventLoopMetric]); // resets the since-last-scrape histogram
      for (let w = 1; running; w++) {
        await sleep(Math.max(0, t0 + w * size.windowMs - nowMs()));
        if (!running) break;
        const [loop, heapUsed, external] = await scrape(server.url, [eventLoopMetric, 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes']);
        const window = windowAt(t0 + (w - 1) * size.windowMs);
        window.loopP99 = loop === null ? null : loop * 1000;
        window.heapUsed = heapUsed;
        window.external = external;
      }
    })();
    const pick = prng(7);
    const fromUs = monotonicUs();
    const writes = await openLoop({
      baseUrl: server.url,
      ratePerSecond: size.writes,
      durationMs: size.durationMs,
      next: () => {
        const i = Math.floor(pick() * size.jobs);
        return { method: 'PUT', path: `/jobs/${jobPath(i)}/${jobBody(i)}?interval=86400` };
      },
      onDone: (sent) => {
        const window = windowAt(sent.endedAt);
        if (sent.status === 201) window.write.push(sent.endedAt - sent.startedAt);
        else {
          window.writeErrors++;
          if (window.writeErrorSamples.length < 3)
            window.writeErrorSamples.push(`${sent.error ?? sent.status} after ${ms(sent.endedAt - sent.startedAt)}`);
        }
      },
    });
    const toUs = monotonicUs();
    running = false;
    await Promise.all([sampler, prober, scraper]);
    client.close();
    endpoint.onArrival = null;
    const elapsed = nowMs() - t0;
    const received = endpoint.count;
    const status = await server.status();
    const code = await server.stop();
    if (code !== 0) throw new Error(`server exited with ${code}`);
    const writeErrors = windows.reduce((sum, w) => sum + w.writeErrors, 0);
    const errors: string[] = [];
    if (writeErrors) {
      const where = windows
        .filter((w) => w.writeErrors)
        .map((w) => `t=${w.from / 1000}s: ${w.writeErrors}`)
        .join(', ');
      errors.push(
        `${writeErrors} PUTs failed during the soak (${where}); e.g. ${windows
          .flatMap((w) => w.writeErrorSamples)
          .slice(0, 3)
          .join(' | ')}`,
      );
      errors.push(`server log problems: ${server.problems().slice(0, 3).join(' | ').slice(0, 1500)}`);
    }
    if (status.total_jobs !== size.jobs + periodic) throw new Error(`total_jobs ${status.total_jobs}, expected ${size.jobs + periodic}`);

    const after = rssSamples.filter((s) => s.t >= size.warmupMs);
    const head = mean(after.slice(0, 5).map((s) => s.rss));
    const tail = mean(after.slice(-5).map((s) => s.rss));
    const drift = (tail - head) / head;
    const expected = (periodic * elapsed) / 1000;
    const perWindow = windows.map((w) => ({
      fromS: w.from / 1000,
      callbacks: w.lag.length,
      lagMs: rounded(summarize(w.lag.values())),
      writes: w.write.length,
      writeErrors: w.writeErrors,
      writeMs: rounded(summarize(w.write.values())),
      probeMs: rounded(summarize(w.probe.values())),
      rss: w.rss.length ? Math.round(mean(w.rss)) : null,
      loopP99Ms: w.loopP99,
      heapUsed: w.heapUsed,
      external: w.external,
    }));
    // Complete windows after the warm-up.
    const steady = windows.filter((w) => w.from >= size.warmupMs && w.from + size.windowMs <= elapsed + 100);
    const allLag = summarize(concat(windows.map((w) => w.lag)));
    const worstLagP99 = Math.max(...steady.filter((w) => w.lag.length).map((w) => summarize(w.lag.values()).p99));
    const allWrite = summarize(concat(windows.map((w) => w.write)));
    const allProbe = summarize(concat(windows.map((w) => w.probe)));
    const worstProbeP99 = Math.max(...steady.filter((w) => w.probe.length).map((w) => summarize(w.probe.values()).p99));
    const loops = windows.map((w) => w.loopP99).filter((v): v is number => v !== null);
    const steadyLoops = steady.map((w) => w.loopP99).filter((v): v is number => v !== null);
    const heaps = steady.map((w) => w.heapUsed).filter((v): v is number => v !== null);
    for (const w of perWindow)
      ctx.log(
        `t=${w.fromS}s callbacks ${w.callbacks} lag p99 ${ms(w.lagMs.p99)}, writes ${w.writes} (${w.writeErrors} failed) p99 ${ms(w.writeMs.p99)}, /healthz p99 ${ms(w.probeMs.p99)}, loop p99 ${w.loopP99Ms === null ? 'n/a' : ms(w.loopP99Ms)}, RSS ${bytes(w.rss ?? NaN)}, heap used ${bytes(w.heapUsed ?? NaN)}, external ${bytes(w.external ?? NaN)}`,
      );
    const notes: string[] = [];
    if (!eventLoopMetric)
      notes.push(
        'soak: the server exposes no event-loop delay (no /metrics gauge, nothing in /status); the /healthz round trip every 100 ms stands in for it.',
      );
    if (ctx.profile) {
      const file = server.cpuProfileFile();
      if (file) notes.push(formatProfile('soak: server CPU profile during the soak', summarizeProfile(file, { fromUs, toUs })));
    }
    const label = `${count(size.jobs)} jobs, ${size.callbacks} callbacks/s, ${size.writes} PUT/s, ${size.durationMs / 1000} s`;
    return {
      rows: [
        {
          id: 'soak.rss_drift',
          figure: `soak (${label}): RSS drift after ${size.warmupMs / 1000} s warm-up`,
          dalga: `${percent(drift)} (${bytes(head)} → ${bytes(tail)})`,
          baseline: '—',
          ratio: null,
          target: '≤ 5 %',
          met: drift <= 0.05,
        },
        {
          id: 'soak.heap_used',
          figure: 'soak: V8 heap used at the end of each steady window (server /metrics), first → last (min–max)',
          dalga: heaps.length
            ? `${bytes(heaps[0])} → ${bytes(heaps[heaps.length - 1])} (${bytes(Math.min(...heaps))}–${bytes(Math.max(...heaps))})`
            : 'not exposed',
          baseline: '—',
          ratio: null,
          target: '(info: tells heap growth from garbage awaiting a major GC)',
          met: null,
        },
        {
          id: 'soak.callback_lag',
          figure: `soak: callback lag p50 / p99, worst ${size.windowMs / 1000} s window p99`,
          dalga: `${ms(allLag.p50)} / ${ms(allLag.p99)}, worst ${ms(worstLagP99)}`,
          baseline: '—',
          ratio: null,
          target: '(info; precision: p99 ≤ 10 ms)',
          met: null,
        },
        {
          id: 'soak.callbacks_delivered',
          figure: 'soak: callbacks delivered / slots due',
          dalga: `${count(received)} / ${count(expected)}`,
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
        {
          id: 'soak.write_latency',
          figure: 'soak: PUT latency p50 / p99',
          dalga: `${ms(allWrite.p50)} / ${ms(allWrite.p99)} (${count(allWrite.n)} PUTs${writeErrors ? `, ${writeErrors} failed` : ''}${writes.resent ? `, ${writes.resent} resent after a keep-alive reset` : ''}${writes.skipped ? `, ${writes.skipped} not sent: 256 already in flight` : ''})`,
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
        {
          id: 'soak.event_loop',
          figure: `soak: event-loop delay p99 per ${size.windowMs / 1000} s window (server /metrics), median / worst`,
          dalga: loops.length
            ? `${ms(percentile(steadyLoops.length ? steadyLoops : loops, 50))} / ${ms(Math.max(...(steadyLoops.length ? steadyLoops : loops)))}`
            : 'not exposed',
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
        {
          id: 'soak.healthz_rtt',
          figure: 'soak: GET /healthz round trip every 100 ms, p50 / p99, worst window p99',
          dalga: `${ms(allProbe.p50)} / ${ms(allProbe.p99)}, worst ${ms(worstProbeP99)}`,
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
      ],
      details: {
        ...size,
        elapsedMs: elapsed,
        rss: { head, tail, drift, samples: rssSamples },
        received,
        expected,
        lagMs: rounded(allLag),
        writeMs: rounded(allWrite),
        probeMs: rounded(allProbe),
        windows: perWindow,
        eventLoopMetric,
        skippedWrites: writes.skipped,
        resentWrites: writes.resent,
      },
      notes,
      errors,
    };
  },
};

function concat(parts: Samples[]): Float64Array {
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Float64Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p.values(), at);
    at += p.length;
  }
  return out;
}
