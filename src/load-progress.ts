/**
 * Where the server stands:
 * - loading:   this server is joining the cluster and loading the shards it took first; the API
 *              refuses job calls.
 * - ready:     the jobs of its shards are in memory and firing; job calls for other shards are
 *              forwarded to their owners.
 * - suspended: this server cannot renew its shard leases (database unreachable); it fires and
 *              writes nothing until it can, or until other servers take its shards over.
 * - stopping:  graceful shutdown.
 */
export type ServerState = 'loading' | 'ready' | 'suspended' | 'stopping';

export interface LoadProgress {
  readonly state: ServerState;
  /** Rows loaded so far at start. */
  loaded: number;
  /** Rows in the table when loading began (for a percentage), or null before it is known. */
  expected: number | null;
}

/** Why job calls cannot be served in a state other than ready (the 503's message). */
export function unavailableReason(progress: LoadProgress): string | null {
  switch (progress.state) {
    case 'ready':
      return null;
    case 'suspended':
      return 'suspended: this server cannot renew its shard leases on the database; it resumes when the database answers';
    case 'loading':
      return `loading: ${progress.loaded} jobs loaded so far`;
    case 'stopping':
      return 'stopping: the server is shutting down';
  }
}
