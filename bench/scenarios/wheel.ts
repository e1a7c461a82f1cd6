/**
 * 1. Wheel: insert then remove N timers by handle with due times from 1 ms to 1 year, against
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
  wrongDues: number;
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
    const sides = { handle: [] as Throughput[], timeout: [] as Throughput[] };
    // Alternate fresh processes so both sides see the same machine state over time.
    for (let round = 0; round < rounds; round++) {
      for (const side of ['timeout', 'handle'] as const) {
        const { value } = await runWorker<Throughput>(ctx.runtime, WORKER, { task: 'throughput', side, n, seed: seed + round }, { nodeFlags: FLAGS });
        sides[side].push(value);
        ctx.log(`round ${round + 1} ${side}: ${rate(value.insertPerSec)} inserts, ${rate(value.cancelPerSec)} cancels`);
      }
    }
    const pick = (side: 'handle' | 'timeout', field: keyof Throughput) => median(sides[side].map((r) => r[field]));
    const heapOf = async (side: 'handle' | 'timeout') =>
      (await runWorker<Heap>(ctx.runtime, WORKER, { task: 'heap', side, n, seed }, { nodeFlags: FLAGS })).value;
    const heapTimeout = await heapOf('timeout');
    const heapHandle = await heapOf('handle');
    ctx.log(`heap: wheel ${heapHandle.bytesPerTimer.toFixed(1)} B/timer, setTimeout ${heapTimeout.bytesPerTimer.toFixed(1)} B/timer`);
    const expiry = (
      await runWorker<{ steps: ExpiryDrive; nextExpiry: ExpiryDrive }>(
        ctx.runtime,
        WORKER,
        { task: 'expiry', side: 'handle', n, seed },
        { nodeFlags: FLAGS },
      )
    ).value;

    const notes: string[] = [];
    if (ctx.profile) {
      for (const side of ['handle', 'timeout'] as const) {
        const dir = mkdtempSync(join(ctx.dir, `prof-${side}-`));
        const { value } = await runWorker<Throughput>(
          ctx.runtime,
          WORKER,
          { task: 'throughput', side, n, seed },
          { nodeFlags: [...FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`] },
        );
        const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
        if (file)
          notes.push(
            formatProfile(
              `wheel: CPU profile of insert + remove ${count(n)} (${side})`,
              summarizeProfile(join(dir, file), { fromUs: value.fromUs, toUs: value.toUs }),
            ),
          );
      }
    }
    const ops = { handle: pick('handle', 'opsPerSec'), timeout: pick('timeout', 'opsPerSec') };
    const ins = { handle: pick('handle', 'insertPerSec'), timeout: pick('timeout', 'insertPerSec') };
    const rem = { handle: pick('handle', 'cancelPerSec'), timeout: pick('timeout', 'cancelPerSec') };
    const expiryRow = (drive: 'steps' | 'nextExpiry', label: string) => {
      const e = expiry[drive];
      const ok = e.early === 0 && e.late === 0 && e.missing === 0 && e.duplicates === 0 && e.wrongDues === 0;
      return {
        id: `wheel.expiry_${drive}`,
        figure: `wheel: ${count(n)} timers due within 10 s, ${label}`,
        dalga: `${count(n - e.missing)} fired, ${e.early} early, ${e.late} late (max ${e.maxLateMs.toFixed(2)} ms), ${rate(e.firesPerSec, ' fires/s')}`,
        baseline: '—',
        ratio: null,
        target: 'all fire, none early, none > 1 tick late, each with its due time',
        met: ok,
      };
    };
    return {
      rows: [
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
          id: 'wheel.insert_ops_handle',
          figure: 'wheel: insert only, by handle',
          dalga: rate(ins.handle, ' ops/s'),
          baseline: `${rate(ins.timeout, ' ops/s')} setTimeout`,
          ratio: ins.handle / ins.timeout,
          target: '(info)',
          met: null,
        },
        {
          id: 'wheel.remove_ops_handle',
          figure: 'wheel: remove only, by handle',
          dalga: rate(rem.handle, ' ops/s'),
          baseline: `${rate(rem.timeout, ' ops/s')} clearTimeout`,
          ratio: rem.handle / rem.timeout,
          target: '(info)',
          met: null,
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
      details: { n, rounds, throughput: sides, heap: { handle: heapHandle, timeout: heapTimeout }, expiry },
      notes,
    };
  },
};
