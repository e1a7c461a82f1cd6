import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lease } from '../../src/cluster/lease.js';
import type { WriteFence } from '../../src/store/write-fence.js';
import { Leadership, type RoleChange } from '../../src/cluster/leadership.js';
import { FakeClock } from '../helpers/fake-clock.js';

const LEASE_MS = 2_500;

/** The lease row as the database holds it, with the database's clock (the same fake clock). */
class LeaseRow {
  owner = '';
  token = 0;
  expiresAt = 0;
  constructor(readonly clock: FakeClock) {}
}

/** One server's view of the row; `reachable = false` makes every statement fail, as a cut connection does. */
class FakeLease implements Lease {
  reachable = true;
  private token: number | null = null;

  constructor(
    private readonly row: LeaseRow,
    private readonly id: string,
  ) {}

  private check(): void {
    if (!this.reachable) throw new Error('database unreachable');
  }

  async acquire(): Promise<boolean> {
    this.check();
    const now = this.row.clock.now();
    if (this.row.owner !== '' && this.row.expiresAt >= now) return false;
    this.row.owner = this.id;
    this.row.token++;
    this.row.expiresAt = now + LEASE_MS;
    this.token = this.row.token;
    return true;
  }

  async renew(): Promise<boolean> {
    this.check();
    if (this.row.owner !== this.id || this.row.token !== this.token) return false;
    this.row.expiresAt = this.row.clock.now() + LEASE_MS;
    return true;
  }

  fence(): WriteFence {
    if (this.token === null) throw new Error('not held');
    return { kind: 'lease', leaseTable: 'fake_lease', owner: this.id, token: this.token };
  }

  async release(): Promise<void> {
    this.check();
    if (this.row.owner === this.id && this.row.token === this.token) this.row.owner = '';
  }

  async holder(): Promise<string | null> {
    return this.row.owner || null;
  }

  async close(): Promise<void> {}
}

function server(clock: FakeClock, row: LeaseRow, id: string) {
  const lease = new FakeLease(row, id);
  const changes: RoleChange[] = [];
  const leadership = new Leadership({ lease, clock, now: () => clock.now(), leaseMs: LEASE_MS, onChange: (change) => changes.push(change) });
  return { lease, leadership, changes };
}

/** Server a started first (the holder), then b (the standby), on one lease row. */
async function twoServers() {
  const clock = new FakeClock(1_000_000);
  const row = new LeaseRow(clock);
  const a = server(clock, row, 'a');
  const b = server(clock, row, 'b');
  await a.leadership.start();
  await b.leadership.start();
  return { clock, row, a, b };
}

/** Advances in 10 ms steps, asserting that two servers never both believe they may fire. */
async function advanceChecking(clock: FakeClock, ms: number, servers: { leadership: Leadership }[]): Promise<void> {
  for (let step = 0; step < ms; step += 10) {
    await clock.advanceAsync(10);
    const valid = servers.filter((s) => s.leadership.valid()).length;
    assert.ok(valid <= 1, `two servers active at ${clock.now()}`);
  }
}

describe('Leadership', () => {
  test('the first server takes the lease and keeps it; the second stays a standby', async () => {
    const { clock, a, b } = await twoServers();
    assert.equal(a.leadership.role, 'active');
    assert.ok(a.leadership.valid());
    assert.equal(b.leadership.role, 'standby');
    await advanceChecking(clock, 30_000, [a, b]);
    assert.deepEqual(a.changes, ['promoted']);
    assert.deepEqual(b.changes, []);
    assert.ok(a.leadership.valid());
  });

  test('when the holder dies, the standby takes over after the lease runs out, never overlapping', async () => {
    const { clock, row, a, b } = await twoServers();
    await advanceChecking(clock, 1_000, [a, b]);
    a.lease.reachable = false; // its renewals fail from now on (dead, or cut off)
    const cutAt = clock.now();
    await advanceChecking(clock, 5_000, [a, b]);
    assert.equal(a.leadership.role, 'suspended');
    assert.equal(b.leadership.role, 'active');
    assert.deepEqual(b.changes, ['promoted']);
    // Takeover: after the lease (2.5 s after the last renewal) plus at most one poll.
    assert.ok(row.token === 2 && row.owner === 'b');
    assert.ok(clock.now() - cutAt <= 5_000);

    // The old holder reaches the database again and finds the lease taken: it becomes a standby.
    a.lease.reachable = true;
    await advanceChecking(clock, 1_000, [a, b]);
    assert.deepEqual(a.changes, ['promoted', 'suspended', 'lost']);
    assert.equal(a.leadership.role, 'standby');
    assert.ok(b.leadership.valid());
  });

  test('a holder that could not renew, while nobody else took over, resumes with the same lease', async () => {
    const clock = new FakeClock(1_000_000);
    const row = new LeaseRow(clock);
    const a = server(clock, row, 'a');
    await a.leadership.start();
    a.lease.reachable = false;
    await clock.advanceAsync(10_000);
    assert.equal(a.leadership.role, 'suspended');
    assert.equal(a.leadership.valid(), false);
    a.lease.reachable = true;
    await clock.advanceAsync(600);
    assert.deepEqual(a.changes, ['promoted', 'suspended', 'resumed']);
    assert.ok(a.leadership.valid());
    assert.equal(row.token, 1, 'nobody took the lease meanwhile');
  });

  test('the holder trusts its lease only until before the database lets it go', async () => {
    const clock = new FakeClock(1_000_000);
    const row = new LeaseRow(clock);
    const a = server(clock, row, 'a');
    await a.leadership.start();
    a.lease.reachable = false;
    for (;;) {
      await clock.advanceAsync(1);
      if (!a.leadership.valid()) break;
    }
    assert.ok(clock.now() < row.expiresAt, `stopped at ${clock.now()}, lease in the database until ${row.expiresAt}`);
    assert.equal(a.leadership.role, 'suspended');
  });

  test('stop() gives the lease up, so the standby takes over at its next poll', async () => {
    const { clock, a, b } = await twoServers();
    await a.leadership.stop();
    assert.equal(a.leadership.valid(), false);
    await clock.advanceAsync(300);
    assert.equal(b.leadership.role, 'active');
  });

  test('distrust() stops firing at once; the next renewal resumes', async () => {
    const clock = new FakeClock(1_000_000);
    const row = new LeaseRow(clock);
    const a = server(clock, row, 'a');
    await a.leadership.start();
    a.leadership.distrust();
    assert.equal(a.leadership.valid(), false);
    assert.equal(a.leadership.role, 'suspended');
    await clock.advanceAsync(600);
    assert.ok(a.leadership.valid());
    assert.deepEqual(a.changes, ['promoted', 'suspended', 'resumed']);
  });

  test('resign() makes a holder a standby that may take the lease again later', async () => {
    const clock = new FakeClock(1_000_000);
    const row = new LeaseRow(clock);
    const a = server(clock, row, 'a');
    await a.leadership.start();
    await a.leadership.resign();
    assert.equal(a.leadership.role, 'standby');
    await clock.advanceAsync(800);
    assert.equal(a.leadership.role, 'active');
    assert.deepEqual(a.changes, ['promoted', 'lost', 'promoted']);
    assert.equal(row.token, 2);
  });
});
