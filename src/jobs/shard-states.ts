import type { ShardMap } from '../cluster/shard-map.js';

/**
 * Where each shard's jobs stand in this server's memory:
 * - absent:    not this server's; none of its jobs are in memory.
 * - loading:   taken; its rows are being read. The API answers 503 for its jobs.
 * - ready:     in memory and on the wheel: its jobs fire here and the API serves them.
 * - releasing: being handed over: nothing new starts and the API answers 503; callbacks in flight
 *              finish and their outcomes are written, then its jobs leave memory.
 */
export type ShardState = 'absent' | 'loading' | 'ready' | 'releasing';

const STATES: readonly ShardState[] = ['absent', 'loading', 'ready', 'releasing'];

/**
 * Per shard: its state, a generation (new each time the shard leaves memory, so that work begun
 * for an earlier stay, such as a callback in flight when the shard was lost, is recognised as
 * stale), and how much work is under way in it (callbacks until their outcomes are written, API
 * writes until they are committed), which a handover waits for.
 */
export class ShardStates {
  private readonly states: Uint8Array;
  private readonly generations: Uint32Array;
  private readonly busy: Int32Array;
  private readonly idleWaiters = new Map<number, (() => void)[]>();
  /** Shards that left memory so far: while it stands still, nothing loading was dropped. */
  drops = 0;

  constructor(readonly map: ShardMap) {
    this.states = new Uint8Array(map.count);
    this.generations = new Uint32Array(map.count);
    this.busy = new Int32Array(map.count);
  }

  ofKey(key: string): number {
    return this.map.ofKey(key);
  }

  state(shard: number): ShardState {
    return STATES[this.states[shard]];
  }

  /** The shards in this state. */
  inState(state: ShardState): number[] {
    const code = STATES.indexOf(state);
    const shards: number[] = [];
    for (let shard = 0; shard < this.states.length; shard++) if (this.states[shard] === code) shards.push(shard);
    return shards;
  }

  generation(shard: number): number {
    return this.generations[shard];
  }

  set(shard: number, state: ShardState): void {
    if (state === 'absent' && this.states[shard] !== 0) {
      this.drops++;
      this.generations[shard]++;
      this.busy[shard] = 0; // the stale work's ends are ignored (begun in an older generation)
      this.wake(shard);
    }
    this.states[shard] = STATES.indexOf(state);
  }

  /** Work begins in a shard; returns the generation to end it with. */
  begin(shard: number): number {
    this.busy[shard]++;
    return this.generations[shard];
  }

  end(shard: number, generation: number): void {
    if (generation !== this.generations[shard]) return;
    if (--this.busy[shard] === 0) this.wake(shard);
  }

  /** Resolves once no work is under way in the shard (or it left memory). */
  idle(shard: number): Promise<void> {
    if (this.busy[shard] === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.idleWaiters.get(shard) ?? [];
      waiters.push(resolve);
      this.idleWaiters.set(shard, waiters);
    });
  }

  private wake(shard: number): void {
    const waiters = this.idleWaiters.get(shard);
    if (!waiters) return;
    this.idleWaiters.delete(shard);
    for (const resolve of waiters) resolve();
  }
}
