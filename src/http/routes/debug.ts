import type Router from '@koa/router';
import type { Clock } from '../../clock.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { splitJobKey } from '../../jobs/job-key.js';
import { formatTime } from '../../jobs/job.js';
import type { JobService } from '../../jobs/job-service.js';
import { unavailableReason, type LoadProgress } from '../../load-progress.js';
import type { WheelEntry } from '../../wheel/timing-wheel.js';
import type { WheelTimer } from '../../wheel/wheel-timer.js';
import { HttpError } from '../http-error.js';
import { requestParams } from '../request-params.js';

export interface DebugDeps {
  /** The loaded wheel, or null when there is none to show (standby, loading, suspended). */
  scheduler: () => { timer: WheelTimer<number>; dispatcher: Dispatcher; service: JobService } | null;
  progress: LoadProgress;
  clock: Clock;
}

const MAX_LISTED = 1000;

function wholeNumber(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > max) throw new HttpError(400, `${name}: must be a whole number from 0 to ${max}`);
  return Number(text);
}

/** A timer as listed: the job it names (wheel keys are job numbers) and when it is due. */
function entryJson(service: JobService, entry: WheelEntry<number>) {
  return { ...splitJobKey(service.keyOf(entry.key) ?? '\u0000'), due: formatTime(entry.due) };
}

/**
 * GET /debug/wheel: the loaded wheel as it is. `?next=N` lists the next N timers to fire
 * (default 10); `?level=L&slot=S` lists the timers of one slot.
 */
export function debugRoutes(router: Router, deps: DebugDeps): void {
  router.get('/debug/wheel', (ctx) => {
    const scheduler = deps.scheduler();
    if (!scheduler) throw new HttpError(503, unavailableReason(deps.progress) ?? 'no wheel loaded');
    const wheel = scheduler.timer.wheel;
    const params = requestParams(ctx, ['next', 'level', 'slot'] as const);
    const next = wholeNumber('next', params.next, MAX_LISTED) ?? 10;
    const level = wholeNumber('level', params.level, wheel.levels - 1);
    const slot = wholeNumber('slot', params.slot, wheel.slotsPerLevel - 1);
    if ((level === undefined) !== (slot === undefined)) throw new HttpError(400, 'level and slot go together');

    const stats = wheel.stats();
    const dispatch = scheduler.dispatcher.stats();
    const counts = scheduler.service.counts();
    const armedAt = scheduler.timer.armedAt;
    const body: Record<string, unknown> = {
      now: formatTime(deps.clock.now()),
      cursor: formatTime(stats.now),
      tick_ms: wheel.tickMs,
      slots_per_level: wheel.slotsPerLevel,
      timers: stats.size,
      overdue: stats.overdue,
      overflow: stats.overflow,
      next_expiry: stats.nextExpiry === null ? null : formatTime(stats.nextExpiry),
      armed_at: armedAt === null ? null : formatTime(armedAt),
      in_flight: dispatch.running,
      waiting: dispatch.waiting,
      disabled: counts.disabled,
      levels: stats.levels.map((l) => ({
        level: l.level,
        tick_ms: l.tickMs,
        span_ms: l.spanMs,
        slots: l.slots,
        occupied_slots: l.occupiedSlots,
        timers: l.timers,
        cursor: l.cursor,
        slot_counts: wheel.slotCounts(l.level),
      })),
      next: wheel.peek(next).map((entry) => entryJson(scheduler.service, entry)),
    };
    if (level !== undefined && slot !== undefined) {
      const entries = wheel.slotEntries(level, slot);
      body.slot = { level, slot, timers: entries.length, entries: entries.slice(0, MAX_LISTED).map((entry) => entryJson(scheduler.service, entry)) };
    }
    ctx.body = body;
  });
}
