import { crc32 } from 'node:zlib';
import { jobKey } from '../jobs/job-key.js';

/** `[cluster] shards`' default: enough that 4 to 64 servers each get a fair share, few enough that one statement renews them all. */
export const DEFAULT_SHARDS = 256;

/**
 * Which shard a job is in: CRC-32 of its UTF-8 key bytes (path, NUL, body) modulo the table's shard
 * count. The same function as MySQL's `CRC32(CONCAT(path, CHAR(0), body)) % shards`, which fills
 * the column of an older table (migrations/cluster-tables.ts). Stable for the life of the table:
 * the count is chosen when the table is created and stored with it (the rows of `<table>_shards`).
 */
export class ShardMap {
  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1 || count > 65_535) throw new Error(`shard count must be 1..65535, not ${count}`);
  }

  of(path: string, body: string): number {
    return this.ofKey(jobKey(path, body));
  }

  /** The shard of a job key (jobKey: path, NUL, body). */
  ofKey(key: string): number {
    return crc32(key) % this.count;
  }
}
