/** console/format.js: a job's schedule in words, times and durations as the console shows them. */
export const FORMAT_JS = String.raw`
/** "every 60 s", "every PT1H", "cron 30 9 * * 1-5 (America/New_York)", "once at <time>". */
export function scheduleText(job) {
  if (job.one_off) return 'once at ' + timeText(job.next_sched);
  if (job.cron !== null) return 'cron ' + job.cron + ' (' + job.location + ')';
  var every = typeof job.interval === 'number' ? 'every ' + job.interval + ' s' : 'every ' + job.interval;
  // Calendar intervals (P1D, P1M) follow the zone's wall clock: say which zone when it is not UTC.
  return job.location === 'UTC' ? every : every + ' (' + job.location + ')';
}

/** RFC 3339 UTC as "2026-01-02 15:04:05 UTC". */
export function timeText(iso) {
  if (iso === null || iso === undefined) return '—';
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

export function duration(ms) {
  var units = [['d', 86400000], ['h', 3600000], ['min', 60000], ['s', 1000]];
  for (var i = 0; i < units.length; i++) {
    if (ms >= units[i][1]) {
      var v = ms / units[i][1];
      return (v >= 10 ? Math.round(v) : Math.round(v * 10) / 10) + ' ' + units[i][0];
    }
  }
  return Math.round(ms) + ' ms';
}

/** "in 42 s", "3 min ago". */
export function relative(iso, now) {
  if (iso === null) return '';
  var ms = Date.parse(iso) - now;
  return ms >= 0 ? 'in ' + duration(ms) : duration(-ms) + ' ago';
}

export function lastStatusText(job) {
  if (job.last_run === null) return 'never ran';
  return job.last_status === null ? 'no answer' : String(job.last_status);
}

/** A rate or a lag, short: 0, 0.25, 12, 1.2k. */
export function shortNumber(value) {
  if (value >= 1000) return Math.round(value / 100) / 10 + 'k';
  if (value >= 10) return String(Math.round(value));
  return String(Math.round(value * 100) / 100);
}
`;
