import type { ShardClaim, WriteFence } from '../store/write-fence.js';

/** One shard's lease row, as a round read it. */
export interface ShardLeaseRow {
  /** '' when nobody holds it. */
  owner: string;
  epoch: number;
  /** Past its expiry by the database's clock: anyone may take it. */
  expired: boolean;
}

/** A server of the cluster whose heartbeat is recent. */
export interface LiveInstance {
  id: string;
  /** host:port its API is reached at (`[cluster] advertise`). */
  address: string;
}

export interface LeaseRound {
  /** Every shard's row, indexed by shard number. */
  shards: ShardLeaseRow[];
  /** The live instances (this one included), ordered by id. */
  instances: LiveInstance[];
}

/**
 * The shard leases of a jobs table and the heartbeats of the servers sharing it, in the
 * database's own clock (servers never compare theirs). Every method throws when the database
 * cannot be reached; a failed round changes nothing the caller knows.
 */
export interface ShardLeases {
  /** Heartbeat, renewal of every shard this instance holds, and a read of every shard row and the live instances: one round trip. */
  round(): Promise<LeaseRound>;
  /** Takes those of the shards that are free or expired, bumping their epochs; returns what it took. */
  take(shards: readonly number[]): Promise<ShardClaim[]>;
  /** Gives shards up at once (handoff, graceful stop), so the next owner need not wait for them to expire. */
  release(claims: readonly ShardClaim[]): Promise<void>;
  /** Removes this instance's heartbeat (graceful stop): the others stop assigning shards to it at once. Later rounds renew without heartbeating. */
  leave(): Promise<void>;
  /** The claim every write of rows in these shards is fenced with. */
  fence(claims: readonly ShardClaim[]): WriteFence;
  close(): Promise<void>;
}
