/**
 * 1. Wheel: insert then cancel N timers with due times from 1 ms to 1 year, against
 * setTimeout/clearTimeout for the same due times; heap per timer; expiry on a fake clock.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runWorker } from '../lib/child.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { bytes, count, rate } from '../lib/format.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

interface Throughput {
  fromUs: number;
  toUs: number;
  insertPerSec: number;
  cancelPerSec: number;
  opsPerSec: number;
}
interface Heap {
  bytesPerTimer: number;
  afterCancelBytes: number;
}
interface ExpiryDrive {
  advances: number;
  firesPerSec: number;
  early: number;
  late: number;
  duplicates: number;
  missing: number;
  maxLateMs: number;
}

const WORKER = 'bench/workers/wheel-worker.ts';
const FLAGS = ['--expose-gc'];

export const wheel: Scenario = {
  name: 'wheel',
  title: 'Wheel',
  async run(ctx) {
    const n = bySize(ctx.mode, { quick: 200_000, full: 1_000_000 });
    const rounds = bySize(ctx.mode, { quick: 3, full: 5 });
    const seed = 20260101;
    const sides = { wheel: [] as Throughput[], handle: [] as Throughput[], timeout: [] as Throughput[] };
    // Alternate fresh processes so both sides see the same machine state over time.
    for (let round = 0; round < rounds; round++) {
      for (const side of ['timeout', 'wheel', 'handle'] as const) {
        const { value } = await runWorker<Throughput>(ctx.runtime, WORKER, { task: 'throughput', side, n, seed: seed + round }, { nodeFlags: FLAGS });
        sides[side].push(value);
        ctx.log(`round ${round + 1} ${side}: ${rate(value.insertPerSec)} inserts, ${rate(value.cancelPerSec)} cancels`);
      }
    }
    const pick = (side: 'wheel' | 'handle' | 'timeout', field: keyof Throughput) => median(sides[side].map((r) => r[field]));
    const heapOf = async (side: 'wheel' | 'handle' | 'timeout') =>
      (await runWorker<Heap>(ctx.runtime, WORKER, { task: 'heap', side, n, seed }, { nodeFlags: FLAGS })).value;
    const heapTimeout = await heapOf('timeout');
    const heapWheel = await heapOf('wheel');
    const heapHandle = await heapOf('handle');
    ctx.log(`heap: wheel ${heapWheel.bytesPerTimer.toFixed(1)} B/timer (by handle ${heapHandle.bytesPerTimer.toFixed(1)}), setTimeout ${heapTimeout.bytesPerTimer.toFixed(1)} B/timer`);
    const expiry = (await runWorker<{ steps: ExpiryDrive; nextExpiry: ExpiryDrive }>(ctx.runtime, WORKER, { task: 'expiry', side: 'wheel', n, seed }, { nodeFlags: FLAGS })).value;

    const notes: string[] = [];
    if (ctx.profile) {
      for (const side of ['wheel', 'handle', 'timeout'] as const) {
        const dir = mkdtempSync(join(ctx.dir, `prof-${side}-`));
        const { value } = await runWorker<Throughput>(ctx.runtime, WORKER, { task: 'throughput', side, n, seed }, { nodeFlags: [...FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`] });
        const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
        if (file) notes.push(formatProfile(`wheel: CPU profile of insert + cancel ${count(n)} (${side})`, summarizeProfile(join(dir, file), { fromUs: value.fromUs, toUs: value.toUs })));
      }
    }
    const ops = { wheel: pick('wheel', 'opsPerSec'), handle: pick('handle', 'opsPerSec'), timeout: pick('timeout', 'opsPerSec') };
    const ins = { wheel: pick('wheel', 'insertPerSec'), timeout: pick('timeout', 'insertPerSec') };
    const can = { wheel: pick('wheel', 'cancelPerSec'), timeout: pick('timeout', 'cancelPerSec') };
    const expiryRow = (drive: 'steps' | 'nextExpiry', label: string) => {
      const e = expiry[drive];
      const ok = e.early === 0 && e.late === 0 && e.missing === 0 && e.duplicates === 0;
      return {
        id: `wheel.expiry_${drive}`,
        figure: `wheel: ${count(n)} timers due within 10 s, ${label}`,
        dalga: `${count(n - e.missing)} fired, ${e.early} early, ${e.late} late (max ${e.maxLateMs.toFixed(2)} ms), ${rate(e.firesPerSec, ' fires/s')}`,
        baseline: '—',
        ratio: null,
        target: 'all fire, none early, none > 1 tick late',
        met: ok,
      };
    };
    return {
      rows: [
        {
          id: 'wheel.insert_cancel_ops',
          figure: `wheel: insert + cancel ${count(n)} timers (1 ms..1 y) by key (the wheel's own key index)`,
          dalga: rate(ops.wheel, ' ops/s'),
          baseline: `${rate(ops.timeout, ' ops/s')} setTimeout/clearTimeout`,
          ratio: ops.wheel / ops.timeout,
          target: '(info: the server uses handles)',
          met: null,
        },
        {
          id: 'wheel.insert_cancel_ops_handle',
          figure: `wheel: insert + remove ${count(n)} timers (1 ms..1 y) by handle, as the server does (JobService keeps each job's handle, as a setTimeout caller keeps its Timeout)`,
          dalga: rate(ops.handle, ' ops/s'),
          baseline: `${rate(ops.timeout, ' ops/s')} setTimeout/clearTimeout`,
          ratio: ops.handle / ops.timeout,
          target: '≥ 3×',
          met: ops.handle / ops.timeout >= 3,
        },
        {
          id: 'wheel.insert_ops',
          figure: 'wheel: insert only, by key',
          dalga: rate(ins.wheel, ' ops/s'),
          baseline: `${rate(ins.timeout, ' ops/s')} setTimeout`,
          ratio: ins.wheel / ins.timeout,
          target: '(info)',
          met: null,
        },
        {
          id: 'wheel.cancel_ops',
          figure: 'wheel: cancel only, by key',
          dalga: rate(can.wheel, ' ops/s'),
          baseline: `${rate(can.timeout, ' ops/s')} clearTimeout`,
          ratio: can.wheel / can.timeout,
          target: '(info)',
          met: null,
        },
        {
          id: 'wheel.heap_per_timer',
          figure: 'wheel: heap per timer (beyond the key string)',
          dalga: bytes(heapWheel.bytesPerTimer),
          baseline: `${bytes(heapTimeout.bytesPerTimer)} setTimeout`,
          ratio: heapWheel.bytesPerTimer / heapTimeout.bytesPerTimer,
          target: '≤ 100 B',
          met: heapWheel.bytesPerTimer <= 100,
        },
        {
          id: 'wheel.heap_per_timer_handle',
          figure: 'wheel: heap per timer by handle (handles array included)',
          dalga: bytes(heapHandle.bytesPerTimer),
          baseline: `${bytes(heapTimeout.bytesPerTimer)} setTimeout`,
          ratio: heapHandle.bytesPerTimer / heapTimeout.bytesPerTimer,
          target: '≤ 100 B',
          met: heapHandle.bytesPerTimer <= 100,
        },
        expiryRow('steps', 'fake clock in 1 ms steps'),
        expiryRow('nextExpiry', 'fake clock jumping to nextExpiry()'),
      ],
      details: { n, rounds, throughput: sides, heap: { wheel: heapWheel, handle: heapHandle, timeout: heapTimeout }, expiry },
      notes,
    };
  },
};
