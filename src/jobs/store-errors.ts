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
