/**
 * Shard ownership with a fake clock and an in-memory lease table (times by the "database" clock,
 * which is the fake monotonic clock here): who holds what as servers join, leave, pause and
 * return, and the invariant that no shard is ever fired by two servers trusting their leases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rendezvous } from '../../src/cluster/rendezvous.js';
import type { LeaseRound, ShardLeases } from '../../src/cluster/shard-leases.js';
import { ShardOwnership } from '../../src/cluster/shard-ownership.js';
import type { ShardClaim, WriteFence } from '../../src/store/write-fence.js';
import { FakeClock } from '../helpers/fake-clock.js';

const SHARDS = 64;
const LEASE_MS = 2_500;

/** The database: shard rows and heartbeats, expiring by the clock. */
class LeaseTable {
  readonly rows = Array.from({ length: SHARDS }, () => ({ owner: '', epoch: 0, expires: 0 }));
  readonly seen = new Map<string, number>();
  constructor(readonly clock: FakeClock) {}
}

/** One server's view of the table; `down` makes every statement fail (database unreachable, or the server paused). */
class FakeLeases implements ShardLeases {
  down = false;
  private left = false;
  constructor(
    private readonly table: LeaseTable,
    private readonly id: string,
  ) {}

  private get now(): number {
    return this.table.clock.monotonic();
  }

  private check(): void {
    if (this.down) throw new Error('database unreachable');
  }

  async round(): Promise<LeaseRound> {
    this.check();
    if (!this.left) this.table.seen.set(this.id, this.now);
    for (const row of this.table.rows) if (row.owner === this.id) row.expires = this.now + LEASE_MS;
    return {
      shards: this.table.rows.map((row) => ({ owner: row.owner, epoch: row.epoch, expired: row.expires < this.now })),
      instances: [...this.table.seen]
        .filter(([, at]) => at >= this.now - LEASE_MS)
        .map(([id]) => ({ id, address: `${id}:1` }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    };
  }

  async take(shards: readonly number[]): Promise<ShardClaim[]> {
    this.check();
    const taken: ShardClaim[] = [];
    for (const shard of shards) {
      const row = this.table.rows[shard];
      if (row.owner !== '' && row.expires >= this.now) continue;
      row.owner = this.id;
      row.epoch++;
      row.expires = this.now + LEASE_MS;
      taken.push({ shard, epoch: row.epoch });
    }
    return taken;
  }

  async release(claims: readonly ShardClaim[]): Promise<void> {
    this.check();
    for (const { shard, epoch } of claims) {
      const row = this.table.rows[shard];
      if (row.owner === this.id && row.epoch === epoch) Object.assign(row, { owner: '', expires: 0 });
    }
  }

  async leave(): Promise<void> {
    this.check();
    this.left = true;
    this.table.seen.delete(this.id);
  }

  fence(claims: readonly ShardClaim[]): WriteFence {
    return { kind: 'shards', shardTable: 't', owner: this.id, claims };
  }

  async close(): Promise<void> {}
}

interface Server {
  id: string;
  leases: FakeLeases;
  ownership: ShardOwnership;
  /** Shards whose jobs are in memory (loaded, not dropped). */
  loaded: Set<number>;
  lostCount: number;
  /** Shards taken (and loaded) so far. */
  acquiredCount: number;
}

function server(table: LeaseTable, id: string, onValidity?: (valid: boolean) => void): Server {
  const leases = new FakeLeases(table, id);
  const loaded = new Set<number>();
  const s: Server = { id, leases, loaded, lostCount: 0, acquiredCount: 0, ownership: undefined as unknown as ShardOwnership };
  s.ownership = new ShardOwnership({
    leases,
    instanceId: id,
    shards: SHARDS,
    clock: table.clock,
    now: () => table.clock.monotonic(),
    leaseMs: LEASE_MS,
    onValidity,
    owner: {
      acquired: async (shards) => {
        s.acquiredCount += shards.length;
        for (const shard of shards) loaded.add(shard);
      },
      lost: (shards) => {
        s.lostCount += shards.length;
        for (const shard of shards) loaded.delete(shard);
      },
      release: async (shards) => {
        for (const shard of shards) loaded.delete(shard);
      },
    },
  });
  return s;
}

/** No shard in the memory of two servers that both trust their leases (both could fire it). */
function assertNoDoubleOwner(servers: Server[]): void {
  for (let shard = 0; shard < SHARDS; shard++) {
    const firing = servers.filter((s) => s.loaded.has(shard) && s.ownership.valid());
    assert.ok(firing.length <= 1, `shard ${shard} fired by ${firing.map((s) => s.id).join(' and ')}`);
  }
}

async function run(clock: FakeClock, ms: number, servers: Server[]): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    await clock.advanceAsync(50);
    assertNoDoubleOwner(servers);
  }
}

/** Two servers on one table, settled (each holds its share). */
async function twoServers(): Promise<{ clock: FakeClock; a: Server; b: Server }> {
  const clock = new FakeClock(0);
  const table = new LeaseTable(clock);
  const a = server(table, 'a');
  const b = server(table, 'b');
  await a.ownership.start();
  await b.ownership.start();
  await run(clock, 3_000, [a, b]);
  return { clock, a, b };
}

describe('rendezvous', () => {
  const ids = ['a', 'b', 'c'];

  test('every shard gets one owner, the same on every call, about evenly', () => {
    const owners = rendezvous(ids, 256);
    assert.deepEqual(rendezvous([...ids].reverse(), 256), owners, 'the order of the list does not matter');
    for (const id of ids) {
      const count = owners.filter((owner) => owner === id).length;
      assert.ok(count > 256 / 3 - 30 && count < 256 / 3 + 30, `${id} owns ${count} of 256`);
    }
  });

  test('a server joining takes shards only for itself; the others keep theirs', () => {
    const before = rendezvous(ids, 256);
    const after = rendezvous([...ids, 'd'], 256);
    const moved = after.filter((owner, shard) => owner !== before[shard]);
    assert.ok(moved.every((owner) => owner === 'd'));
    assert.ok(moved.length > 30 && moved.length < 100, `${moved.length} moved`);
    assert.deepEqual(rendezvous([], 4), [null, null, null, null]);
  });
});

describe('ShardOwnership', () => {
  test('alone, a server takes every shard at its second round; a second one gets about half, handed over without overlap', async () => {
    const clock = new FakeClock(0);
    const table = new LeaseTable(clock);
    const a = server(table, 'a');
    await a.ownership.start();
    assert.equal(a.loaded.size, 0, 'the first round only announces the server');
    await run(clock, 600, [a]);
    assert.equal(a.loaded.size, SHARDS);
    assert.ok(a.ownership.valid());
    const b = server(table, 'b');
    await b.ownership.start();
    await run(clock, 3_000, [a, b]);
    assert.equal(a.loaded.size + b.loaded.size, SHARDS);
    assert.ok(b.loaded.size > SHARDS / 4 && a.loaded.size > SHARDS / 4, `a ${a.loaded.size}, b ${b.loaded.size}`);
    assert.deepEqual(
      a.ownership.view.instances.map((i) => i.id),
      ['a', 'b'],
    );
    assert.equal(a.lostCount + b.lostCount, 0, 'handed over, never lost');
  });

  test('a server that cannot reach the database stops trusting its leases before anyone takes them; back, it drops what it lost and rebalances', async () => {
    const { clock, a, b } = await twoServers();
    const bHad = b.loaded.size;
    b.leases.down = true;
    // Until the lease runs out nobody takes b's shards; b stops trusting them 500 ms before.
    await run(clock, 2_050, [a, b]);
    assert.ok(!b.ownership.valid(), 'b no longer trusts its leases');
    assert.equal(a.loaded.size, SHARDS - bHad, 'a has not taken them yet');
    await run(clock, 2_000, [a, b]);
    assert.equal(a.loaded.size, SHARDS, "a took every shard once b's leases ran out");
    b.leases.down = false;
    await run(clock, 4_000, [a, b]);
    assert.equal(b.lostCount, bHad, 'b found its shards taken and dropped them');
    assert.equal(a.loaded.size + b.loaded.size, SHARDS);
    assert.ok(b.loaded.size > 0, 'b got its share back by rebalancing');
  });

  test('a server back before its leases ran out keeps its shards', async () => {
    const { clock, a, b } = await twoServers();
    const had = [...b.loaded].sort();
    b.leases.down = true;
    await run(clock, 1_200, [a, b]);
    b.leases.down = false;
    await run(clock, 1_000, [a, b]);
    assert.ok(b.ownership.valid());
    assert.deepEqual([...b.loaded].sort(), had);
    assert.equal(b.lostCount, 0);
  });

  test('leave and stop: the heartbeat goes first, the shards go to the others at their next round', async () => {
    const { clock, a, b } = await twoServers();
    await b.ownership.leave();
    await run(clock, 1_000, [a, b]);
    assert.ok(b.loaded.size > 0, 'b keeps its shards while it drains');
    assert.ok(!a.ownership.view.instances.some((i) => i.id === 'b'), 'b is not live any more');
    await b.ownership.stop();
    await run(clock, 600, [a, b]);
    assert.equal(a.loaded.size, SHARDS);
  });

  test('servers started together see each other before taking shards: none takes (and loads) every shard to hand most over', async () => {
    const clock = new FakeClock(0);
    const table = new LeaseTable(clock);
    const servers = ['a', 'b', 'c'].map((id) => server(table, id));
    await Promise.all(servers.map((s) => s.ownership.start()));
    await run(clock, 3_000, servers);
    const acquired = servers.map((s) => s.acquiredCount);
    assert.equal(
      acquired.reduce((a, b) => a + b, 0),
      SHARDS,
      `every shard loaded once: ${acquired.join(', ')}`,
    );
  });

  test('distrust (a write-back failed): nothing is trusted until the next round renews', async () => {
    const clock = new FakeClock(0);
    const table = new LeaseTable(clock);
    const validity: boolean[] = [];
    const a = server(table, 'a', (valid) => validity.push(valid));
    await a.ownership.start();
    await run(clock, 600, [a]);
    a.ownership.distrust();
    assert.equal(a.ownership.valid(), false);
    await clock.advanceAsync(1);
    assert.deepEqual(validity, [true, false]);
    await clock.advanceAsync(500);
    assert.equal(a.ownership.valid(), true);
    assert.deepEqual(validity, [true, false, true]);
  });

  test('a write fence names the epochs held; a shard not held gets an epoch no row has', async () => {
    const clock = new FakeClock(0);
    const table = new LeaseTable(clock);
    const a = server(table, 'a');
    await a.ownership.start();
    await run(clock, 600, [a]);
    const fence = a.ownership.fence([3, 5]);
    assert.deepEqual(fence, {
      kind: 'shards',
      shardTable: 't',
      owner: 'a',
      claims: [
        { shard: 3, epoch: 1 },
        { shard: 5, epoch: 1 },
      ],
    });
    await a.ownership.stop();
    assert.deepEqual(a.ownership.fence([3]), { kind: 'shards', shardTable: 't', owner: 'a', claims: [{ shard: 3, epoch: -1 }] });
  });
});
