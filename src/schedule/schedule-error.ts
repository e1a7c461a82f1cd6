/**
 * A schedule parameter (interval, cron, location, first_run, ...) that cannot be used.
 * `message` names the parameter and says what is wrong, e.g.
 * `interval: "PT" is not a number of seconds or an ISO 8601 duration`.
 * The HTTP layer turns it into `400 {"error": message}`.
 */
export class ScheduleError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}
