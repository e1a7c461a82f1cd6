/**
 * Child process for the wheel scenario (run with --expose-gc). One task per process, so that the
 * heap of one side never inflates the other's:
 *   throughput: insert N timers, then remove them (TimingWheel.insert/remove by handle, as the
 *               server does, vs setTimeout/clearTimeout)
 *   heap:       heap + external bytes held per timer after N inserts (keys allocated beforehand)
 *   expiry:     N timers due within 10 s on a fake clock: all fire, none early, none > 1 tick late,
 *               each with its own due time
 * Prints one JSON line.
 */
import { prng } from '../lib/random.js';
import { TimingWheel } from '../../src/wheel/timing-wheel.js';

interface Input {
  task: 'throughput' | 'heap' | 'expiry';
  /** handle: insert/remove with the caller keeping the handle (as JobService does), as with setTimeout. */
  side: 'handle' | 'timeout';
  n: number;
  seed: number;
}

const input = JSON.parse(process.argv[2]) as Input;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const fullGc = () => {
  gc();
  gc();
};

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Node clamps larger delays to 1 ms; a setTimeout-based scheduler re-arms at this bound (WheelTimer does the same). */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
const START = Date.UTC(2026, 0, 1);

/** Job keys as the server makes them ("path\0body"), flattened (a cons string would be flattened, and allocated, inside the timed part). */
function makeKeys(n: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push(`bench/path-${i % 1000}\u0000body-${i}`);
  return JSON.parse(JSON.stringify(keys)) as string[];
}

function makeDelays(n: number, seed: number): Float64Array {
  const random = prng(seed);
  const delays = new Float64Array(n);
  for (let i = 0; i < n; i++) delays[i] = 1 + Math.floor(random() * YEAR_MS);
  return delays;
}

const noop = () => {};

function handleRound(keys: string[], delays: Float64Array, n: number): { insertMs: number; cancelMs: number } {
  const wheel = new TimingWheel<string>(START);
  const handles: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) handles.push(wheel.insert(keys[i], START + delays[i]));
  const t1 = performance.now();
  for (let i = 0; i < n; i++) wheel.remove(handles[i], keys[i]);
  const t2 = performance.now();
  if (wheel.size !== 0) throw new Error('wheel not empty after removing everything');
  return { insertMs: t1 - t0, cancelMs: t2 - t1 };
}

function timeoutRound(delays: Float64Array, n: number): { insertMs: number; cancelMs: number } {
  const handles: NodeJS.Timeout[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) handles.push(setTimeout(noop, Math.min(delays[i], MAX_TIMER_DELAY)));
  const t1 = performance.now();
  for (let i = 0; i < n; i++) clearTimeout(handles[i]);
  const t2 = performance.now();
  return { insertMs: t1 - t0, cancelMs: t2 - t1 };
}

function throughput(): unknown {
  const { n, side, seed } = input;
  const keys = side === 'timeout' ? [] : makeKeys(n);
  const delays = makeDelays(n, seed);
  const run = (count: number) => (side === 'handle' ? handleRound(keys, delays, count) : timeoutRound(delays, count));
  // Warm-up (JIT) on a tenth, then the measured round.
  run(Math.max(1000, Math.floor(n / 10)));
  fullGc();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const round = run(n);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  return {
    n,
    fromUs,
    toUs,
    insertPerSec: (n / round.insertMs) * 1000,
    cancelPerSec: (n / round.cancelMs) * 1000,
    opsPerSec: ((2 * n) / (round.insertMs + round.cancelMs)) * 1000,
    ...round,
  };
}

function held(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external; // external includes the wheel's ArrayBuffers
}

function heap(): unknown {
  const { n, side, seed } = input;
  const keys = side === 'timeout' ? [] : makeKeys(n);
  const delays = makeDelays(n, seed);
  fullGc();
  const before = held();
  let after: number;
  let afterCancel: number;
  if (side === 'handle') {
    // The handles count: the caller must keep them (as the setTimeout side keeps its Timeouts).
    const wheel = new TimingWheel<string>(START);
    const handles: number[] = [];
    for (let i = 0; i < n; i++) handles.push(wheel.insert(keys[i], START + delays[i]));
    fullGc();
    after = held();
    for (let i = 0; i < n; i++) wheel.remove(handles[i], keys[i]);
    handles.length = 0;
    fullGc();
    afterCancel = held();
    if (wheel.size !== 0) throw new Error('not empty');
  } else {
    const handles: NodeJS.Timeout[] = [];
    for (let i = 0; i < n; i++) handles.push(setTimeout(noop, Math.min(delays[i], MAX_TIMER_DELAY)));
    fullGc();
    after = held();
    for (let i = 0; i < n; i++) clearTimeout(handles[i]);
    handles.length = 0;
    fullGc();
    afterCancel = held();
  }
  return { n, bytesPerTimer: (after - before) / n, heldBytes: after - before, afterCancelBytes: afterCancel - before };
}

/** Steps the wheel's clock (a plain number: the wheel is pure) and checks every firing. */
function expiry(): unknown {
  const { n, seed } = input;
  const random = prng(seed);
  const dues = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // 1 ms .. 10 s ahead; a quarter with a fractional part (the wheel rounds those up).
    const whole = START + 1 + Math.floor(random() * 10_000);
    dues[i] = random() < 0.25 ? whole - 0.5 : whole;
  }
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push(`e${i}`);
  const results: Record<string, unknown> = { n };
  for (const drive of ['steps', 'nextExpiry'] as const) {
    const wheel = new TimingWheel<string>(START);
    for (let i = 0; i < n; i++) wheel.insert(keys[i], dues[i]);
    const fired = new Uint8Array(n);
    const out: string[] = [];
    const outDues: number[] = [];
    let early = 0;
    let late = 0;
    let duplicates = 0;
    let wrongDues = 0;
    let maxLateMs = 0;
    let advances = 0;
    let advanceMs = 0;
    const check = (t: number) => {
      for (let j = 0; j < out.length; j++) {
        const i = Number(out[j].slice(1));
        if (outDues[j] !== Math.ceil(dues[i])) wrongDues++;
        if (fired[i]) duplicates++;
        fired[i] = 1;
        const lateBy = t - dues[i];
        if (lateBy < 0) early++;
        if (lateBy >= 1) late++; // one tick = 1 ms
        if (lateBy > maxLateMs) maxLateMs = lateBy;
      }
    };
    if (drive === 'steps') {
      for (let t = START + 1; t <= START + 10_001; t++) {
        const s = performance.now();
        wheel.advance(t, out, outDues);
        advanceMs += performance.now() - s;
        advances++;
        check(t);
      }
    } else {
      for (let next = wheel.nextExpiry(); next !== null; next = wheel.nextExpiry()) {
        const s = performance.now();
        wheel.advance(next, out, outDues);
        advanceMs += performance.now() - s;
        advances++;
        check(next);
        if (advances > 10 * n + 100_000) throw new Error('nextExpiry loop does not terminate');
      }
    }
    let missing = 0;
    for (let i = 0; i < n; i++) if (!fired[i]) missing++;
    results[drive] = { advances, advanceMs, firesPerSec: (n / advanceMs) * 1000, early, late, duplicates, missing, wrongDues, maxLateMs };
  }
  return results;
}

const output = input.task === 'throughput' ? throughput() : input.task === 'heap' ? heap() : expiry();
process.stdout.write(`${JSON.stringify(output)}\n`);
process.exit(0);
