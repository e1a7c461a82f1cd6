/**
 * Where the server stands:
 * - standby:   another server is active on the table; this one holds no jobs.
 * - loading:   this server took the table's lease and is loading it; the API refuses job calls.
 * - ready:     every job is in memory and firing.
 * - suspended: this server cannot renew its lease (database unreachable); it fires and writes
 *              nothing until it can, or until a standby takes over.
 * - stopping:  graceful shutdown.
 */
export type ServerState = 'standby' | 'loading' | 'ready' | 'suspended' | 'stopping';

export interface LoadProgress {
  readonly state: ServerState;
  /** Rows loaded so far in this term. */
  loaded: number;
  /** Rows in the table when loading began (for a percentage), or null before it is known. */
  expected: number | null;
}

/** Why job calls cannot be served in a state other than ready (the 503's message). */
export function unavailableReason(progress: LoadProgress): string | null {
  switch (progress.state) {
    case 'ready':
      return null;
    case 'standby':
      return 'standby: another Dalga server is active on this table; this one takes over if it stops';
    case 'suspended':
      return 'suspended: this server cannot renew its lease on the database; it resumes when the database answers';
    case 'loading':
      return `loading: ${progress.loaded} jobs loaded so far`;
    case 'stopping':
      return 'stopping: the server is shutting down';
  }
}
