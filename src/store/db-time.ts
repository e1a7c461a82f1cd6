/**
 * Times as the jobs table holds them: DATETIME(3) in UTC, "YYYY-MM-DD HH:MM:SS.SSS" text on both
 * databases (mysql2 hands out Date objects unless asked for strings, see mysql-dialect.ts).
 */

/** ms to DATETIME(3) text in UTC, the form both MySQL and SQLite (through TypeORM) store. */
export function dbTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** A time value as a driver returns it to ms. */
export function fromDbTime(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return parseUtcDateTime(value);
  if (value instanceof Date) return value.getTime();
  throw new TypeError(`unexpected time value ${String(value)}`);
}

/**
 * "YYYY-MM-DD HH:MM:SS[.f{1,6}]" (UTC) to ms, by hand: with a million rows at boot, Date.parse
 * (or mysql2's Date objects) was a tenth of the load. Any other shape goes to Date.parse.
 */
export function parseUtcDateTime(text: string): number {
  const length = text.length;
  if (length < 19 || length === 20 || length > 26) return parseOtherTime(text);
  for (let at = 0; at < length; at++) {
    const c = text.charCodeAt(at);
    const separator = at === 4 || at === 7 ? 45 : at === 10 ? 32 : at === 13 || at === 16 ? 58 : at === 19 ? 46 : 0;
    if (separator !== 0 ? c !== separator : c < 48 || c > 57) return parseOtherTime(text);
  }
  const month = decimal(text, 5, 7);
  const day = decimal(text, 8, 10);
  const hour = decimal(text, 11, 13);
  const minute = decimal(text, 14, 16);
  const second = decimal(text, 17, 19);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return parseOtherTime(text);
  // Fraction: the first three digits are the ms; DATETIME(6) digits beyond them are dropped, as Date does.
  const ms = length > 20 ? Math.floor(decimal(text, 20, length) * 10 ** (3 - (length - 20))) : 0;
  return daysFromCivil(decimal(text, 0, 4), month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

function parseOtherTime(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** The number written by the (checked) digits text[from..to). */
function decimal(text: string, from: number, to: number): number {
  let value = 0;
  for (let at = from; at < to; at++) value = value * 10 + text.charCodeAt(at) - 48;
  return value;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
