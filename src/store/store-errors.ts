/**
 * How a database statement can fail, by what the caller may assume about the table afterwards.
 * Every one of them answers 503 at the API.
 */

/** The database could not be used, and the statement changed nothing (it was refused, rolled back or never sent). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * The statement may or may not have been applied: it reached (or may have reached) the database,
 * and then no answer came (timeout, lost connection, reset). The caller must read the row back
 * before it trusts its memory of it.
 */
export class StoreUncertainError extends StoreUnavailableError {
  override name = 'StoreUncertainError';
}

/**
 * The write found that another server holds the table now (its lease token, checked in the same
 * transaction, has moved on): nothing was changed, and this server must step down.
 */
export class FencedError extends StoreUnavailableError {
  override name = 'FencedError';
}

export class TableMissingError extends Error {
  override name = 'TableMissingError';
}

/** The table exists but was made by an older Dalga: `dalga -create-table` brings it up to date. */
export class TableOutdatedError extends Error {
  override name = 'TableOutdatedError';
}

/**
 * An error the database server sent back for a statement (it has an error number and left the
 * connection usable): the statement was not applied. Anything else (connection lost, reset,
 * closed) leaves it unknown.
 */
export function isServerRefusal(error: unknown): boolean {
  const { errno, fatal } = error as { errno?: unknown; fatal?: unknown };
  return typeof errno === 'number' && fatal !== true;
}

/** An error's message, with the driver's code in front where the message lacks it. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
