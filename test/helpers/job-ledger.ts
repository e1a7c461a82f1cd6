/**
 * What a client may expect of each job key, from the answers it got: the last acknowledged PUT
 * (201) or DELETE (204) settles the key; a request that got no answer (the server was killed
 * under it) leaves the key "unknown" between the two outcomes until a later answer settles it.
 *
 * The server deletes a job itself when its endpoint answers 204, or 200 to a one-off. Such an
 * answer makes the job's presence uncertain only if the callback served the acknowledged schedule
 * (its Dalga-Sched is one of that schedule's slots or one of its acknowledged triggers): a callback
 * of a replaced schedule must not delete the job that replaced it.
 */

/** The schedule a PUT gave: every `seconds` from `firstRun` (fixed-rate), or once at `firstRun`. */
export type LedgerSchedule = { kind: 'interval'; seconds: number; firstRun: number } | { kind: 'once'; firstRun: number };

type Settled = { kind: 'absent' } | { kind: 'present'; schedule: LedgerSchedule; sentAt: number };

interface KeyRecord {
  settled: Settled;
  /** A request in flight at a kill: its PUT schedule, or null for a DELETE. */
  unknown: { schedule: LedgerSchedule | null } | null;
  /** Dalga-Sched of the triggered runs acknowledged since the settling request. */
  triggers: Set<number>;
  /** A trigger got no answer since the settling request: it may have run, at a time nobody knows. */
  unknownTrigger: boolean;
  /** Callbacks answered 204 (or 200 to a one-off): the slot they served and when the answer was sent. */
  deletingAnswers: { sched: number; answeredAt: number }[];
  /** PUTs sent so far (acknowledged or not): makes each generation's first run distinct. */
  generations: number;
}

/**
 * - `present`: must be there, with one of `schedules`.
 * - `absent`: must not be there.
 * - `either`: may or may not be there; if there, with one of `schedules`.
 */
export type Expectation = { kind: 'present'; schedules: LedgerSchedule[] } | { kind: 'absent' } | { kind: 'either'; schedules: LedgerSchedule[] };

/** Whether `sched` is one of the schedule's regular slots. */
export function isSlotOf(schedule: LedgerSchedule, sched: number): boolean {
  if (schedule.kind === 'once') return sched === schedule.firstRun;
  return sched >= schedule.firstRun && (sched - schedule.firstRun) % (schedule.seconds * 1000) === 0;
}

export class JobLedger {
  private readonly records = new Map<string, KeyRecord>();

  private record(key: string): KeyRecord {
    let record = this.records.get(key);
    if (!record) {
      record = {
        settled: { kind: 'absent' },
        unknown: null,
        triggers: new Set(),
        unknownTrigger: false,
        deletingAnswers: [],
        generations: 0,
      };
      this.records.set(key, record);
    }
    return record;
  }

  private settle(record: KeyRecord, settled: Settled): void {
    record.settled = settled;
    record.unknown = null;
    record.triggers.clear();
    record.unknownTrigger = false;
  }

  /** Counts a PUT about to be sent; returns its generation number for this key (0, 1, ...). */
  nextGeneration(key: string): number {
    return this.record(key).generations++;
  }

  putAcknowledged(key: string, schedule: LedgerSchedule, sentAt: number): void {
    this.settle(this.record(key), { kind: 'present', schedule, sentAt });
  }

  deleteAcknowledged(key: string): void {
    this.settle(this.record(key), { kind: 'absent' });
  }

  /** A PUT (with its schedule) or DELETE (null) that got no answer. */
  unanswered(key: string, schedule: LedgerSchedule | null): void {
    this.record(key).unknown = { schedule };
  }

  /** A trigger answered 200: its run serves `sched` (the answer's next_run). */
  triggerAcknowledged(key: string, sched: number): void {
    this.record(key).triggers.add(sched);
  }

  triggerUnanswered(key: string): void {
    this.record(key).unknownTrigger = true;
  }

  /** The endpoint answers (at `answeredAt`) the callback serving `sched` with 204, or 200 to a one-off. */
  deletingAnswer(key: string, sched: number, answeredAt: number): void {
    this.record(key).deletingAnswers.push({ sched, answeredAt });
  }

  keys(): string[] {
    return [...this.records.keys()];
  }

  /** What `key` must look like; `asOf`: ignore callback answers sent after this time (not yet heard by the server). */
  expectation(key: string, asOf = Infinity): Expectation {
    const record = this.records.get(key);
    if (!record) return { kind: 'absent' };
    const { settled, unknown } = record;
    const schedules = settled.kind === 'present' ? [settled.schedule] : [];
    if (unknown?.schedule) schedules.push(unknown.schedule);
    if (schedules.length === 0) return { kind: 'absent' }; // never put, or deleted (and maybe deleted again)
    if (settled.kind === 'absent' || unknown?.schedule === null) return { kind: 'either', schedules };
    // A callback answered before the PUT was sent is overtaken by it; so is one serving another schedule.
    const deleted = record.deletingAnswers.some(
      (answer) =>
        answer.answeredAt >= settled.sentAt &&
        answer.answeredAt <= asOf &&
        (record.unknownTrigger || record.triggers.has(answer.sched) || schedules.some((schedule) => isSlotOf(schedule, answer.sched))),
    );
    return { kind: deleted ? 'either' : 'present', schedules };
  }
}
