import { IANAZone } from 'luxon';
import { ScheduleError } from './schedule-error.js';

/** Loose shape of an IANA zone name: rejects offsets such as "+02:00" that newer ICU builds accept as zones. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/**
 * Validates an IANA time zone name ("Europe/Berlin", "UTC", "America/New_York") and returns it in canonical form.
 *
 * Canonical form: the spelling ICU reports when it only differs in letter case ("europe/berlin" -> "Europe/Berlin",
 * "utc" -> "UTC"); any other valid name (a link/alias such as "Asia/Kolkata", "US/Eastern", "Etc/UTC") is returned
 * exactly as written, because ICU would rewrite some current names to legacy ones ("Asia/Kolkata" -> "Asia/Calcutta").
 * The empty string is rejected: callers default a missing location to 'UTC' themselves.
 *
 * @throws ScheduleError('location', ...) when the name is not a known IANA zone.
 */
export function parseLocation(name: string, parameter = 'location'): string {
  if (typeof name !== 'string' || name === '') {
    throw new ScheduleError(parameter, `${parameter}: must be an IANA time zone name such as "Europe/Berlin" or "UTC"`);
  }
  if (!ZONE_NAME.test(name) || !IANAZone.isValidZone(name)) {
    throw new ScheduleError(parameter, `${parameter}: ${JSON.stringify(name)} is not a known IANA time zone name`);
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new ScheduleError(parameter, `${parameter}: ${JSON.stringify(name)} is not a known IANA time zone name`);
  }
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}
