/** Where boot stands: the API refuses job calls until the whole table is in memory. */
export interface LoadProgress {
  state: 'loading' | 'ready' | 'stopping';
  /** Rows loaded so far. */
  loaded: number;
  /** Rows in the table when loading began (for a percentage), or null before it is known. */
  expected: number | null;
}
