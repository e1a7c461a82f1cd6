import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { buildConfig, type MysqlSettings } from '../../src/config/config.js';
import { dataSourceOptions } from '../../src/store/data-source-options.js';
import { mysqlConnectionOptions } from '../../src/store/mysql-hosts.js';
import { eventually } from '../helpers/eventually.js';
import { GaleraCluster, skipUnlessGalera } from '../helpers/galera-cluster.js';

/**
 * What Dalga relies on from a Galera cluster, at the database level: writes on one node are read
 * on another, a conflicting concurrent transaction fails with a deadlock error (which Dalga's
 * write retries), two nodes of three go on without the third, and a [mysql] host list of the
 * nodes moves to a live node, and away from a node outside the primary component. Nodes are numbered from 0.
 */
describe('a 3-node Galera cluster', { skip: skipUnlessGalera() }, () => {
  let cluster: GaleraCluster;
  const connections: mysql.Connection[] = [];

  before(async () => {
    cluster = await GaleraCluster.start();
    await cluster.query(0, 'CREATE TABLE item (id INT PRIMARY KEY, v INT NOT NULL, w INT NOT NULL DEFAULT 0) ENGINE=InnoDB');
  });
  after(async () => {
    for (const connection of connections) connection.destroy();
    await cluster?.destroy();
  });

  /** A connection to node i that reads only after every write the cluster committed before (wsrep_sync_wait=1). */
  async function connectTo(i: number): Promise<mysql.Connection> {
    const { host, port } = cluster.nodes[i];
    const connection = await mysql.createConnection({
      host,
      port,
      user: cluster.user,
      password: cluster.password,
      database: cluster.database,
      multipleStatements: true,
    });
    connections.push(connection);
    await connection.query('SET SESSION wsrep_sync_wait = 1');
    return connection;
  }

  async function rowOn(connection: mysql.Connection, id: number): Promise<{ v: number; w: number } | undefined> {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT v, w FROM item WHERE id = ?', [id]);
    return rows[0] === undefined ? undefined : { v: rows[0].v as number, w: rows[0].w as number };
  }

  test('a row written on node 0 is read on node 2', async () => {
    const node0 = await connectTo(0);
    const node2 = await connectTo(2);
    await node0.query('INSERT INTO item (id, v) VALUES (1, 0)');
    assert.deepEqual(await rowOn(node2, 1), { v: 0, w: 0 });
    assert.equal(await cluster.clusterSize(2), 3);
  });

  test('two transactions updating one row on two nodes: the later commit fails with ER_LOCK_DEADLOCK and changed nothing', async () => {
    const node0 = await connectTo(0);
    const node2 = await connectTo(2);
    await node0.query('START TRANSACTION');
    await node0.query('UPDATE item SET v = 1 WHERE id = 1');
    // Row locks are each node's own: node 2 does not wait for node 0's lock.
    await node2.query('START TRANSACTION');
    await node2.query('UPDATE item SET v = 2 WHERE id = 1');
    await node0.query('COMMIT');
    // Node 0's commit, applied on node 2, aborts node 2's transaction (or fails its certification).
    await assert.rejects(node2.query('COMMIT'), (error: Error & { code?: string; errno?: number }) => {
      assert.equal(error.code, 'ER_LOCK_DEADLOCK', error.message);
      assert.equal(error.errno, 1213);
      return true;
    });
    assert.deepEqual(await rowOn(node2, 1), { v: 1, w: 0 }, 'node 0 won, on node 2 as well');
    assert.deepEqual(await rowOn(node0, 1), { v: 1, w: 0 });
  });

  test('a multi-statement transaction (as Dalga writes) aborted by a conflict stops at the error: its later statements do not run', async () => {
    const node0 = await connectTo(0);
    const node2 = await connectTo(2);
    // Like mysql-dialect.ts: claim, remember ROW_COUNT() in a user variable, write under it, commit,
    // in one query; SELECT SLEEP holds the transaction open for node 0 to conflict with. (Not DO
    // SLEEP or BENCHMARK: they swallow the abort's kill, and then the statements after them run
    // outside the rolled-back transaction, with the user variable still set.)
    const batch = node2.query(
      'START TRANSACTION; UPDATE item SET v = v + 10 WHERE id = 1; SET @claimed = ROW_COUNT(); SELECT SLEEP(3); ' +
        'UPDATE item SET w = 1 WHERE id = 1 AND @claimed = 1; COMMIT',
    );
    const outcome = batch.then(
      () => null,
      (error: Error & { code?: string }) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await node0.query('UPDATE item SET v = 100 WHERE id = 1');
    const error = await outcome;
    assert.ok(error !== null, 'the batch was aborted');
    assert.equal(error.code, 'ER_LOCK_DEADLOCK', error.message);
    await node2.query('ROLLBACK'); // what Dalga does before it retries; harmless when nothing is open
    assert.deepEqual(await rowOn(node2, 1), { v: 100, w: 0 }, 'node 0 won; the statements after the abort did not run');
    assert.deepEqual(await rowOn(node0, 1), { v: 100, w: 0 });
  });

  test('after kill -9 of node 1, nodes 0 and 2 still accept writes (quorum 2 of 3); node 1 rejoins with them', async () => {
    await cluster.kill(1);
    const node0 = await connectTo(0);
    const node2 = await connectTo(2);
    // Each waits until the others have dropped node 1 (a few seconds), then commits.
    await node0.query('INSERT INTO item (id, v) VALUES (2, 20)');
    await node2.query('INSERT INTO item (id, v) VALUES (3, 30)');
    assert.deepEqual(await rowOn(node0, 3), { v: 30, w: 0 });
    assert.deepEqual(await rowOn(node2, 2), { v: 20, w: 0 });
    assert.equal(await cluster.clusterSize(0), 2);
    await cluster.restart(1);
    const node1 = await connectTo(1);
    assert.deepEqual(
      [await rowOn(node1, 2), await rowOn(node1, 3)],
      [
        { v: 20, w: 0 },
        { v: 30, w: 0 },
      ],
    );
    assert.equal(await cluster.clusterSize(1), 3);
  });

  test('[mysql] host listing the three nodes: a node cut off from the primary component (errno 1047) is left for the next node', async () => {
    const { database } = buildConfig({ mysql: { host: cluster.hostList, db: cluster.database, user: cluster.user, password: cluster.password } });
    const settings = database as MysqlSettings;
    const ports = cluster.nodes.map((node) => node.port);
    // A statement that reads a table: a node that is not ready still answers SELECT @@port alone.
    const nodeOf = async (): Promise<number> =>
      ports.indexOf(Number(((await dataSource.query('SELECT @@port AS port, COUNT(*) AS n FROM item')) as { port: number }[])[0].port));

    const dataSource = new DataSource(dataSourceOptions(settings, 16));
    await dataSource.initialize();
    try {
      // Several pooled connections to node 0, as a busy server has.
      assert.deepEqual(await Promise.all([nodeOf(), nodeOf(), nodeOf(), nodeOf()]), [0, 0, 0, 0]);
      // Galera's own switch: node 0 drops its group connections and, a few seconds later, finds itself non-primary.
      await cluster.query(0, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
      await eventually(
        async () => ((await cluster.query(0, "SHOW STATUS LIKE 'wsrep_ready'")) as { Value: string }[])[0].Value,
        (ready) => ready === 'OFF',
        'node 0 not ready',
        30_000,
      );

      await assert.rejects(
        nodeOf(),
        (error: Error & { driverError?: { errno?: number } }) => {
          assert.equal(error.driverError?.errno, 1047, error.message);
          return true;
        },
        'the first statement on node 0 is refused: the node still greets and logs in',
      );
      const after = await Promise.all([nodeOf(), nodeOf(), nodeOf(), nodeOf(), nodeOf(), nodeOf()]);
      assert.deepEqual(after, [1, 1, 1, 1, 1, 1], 'every statement after it runs on node 1: no pooled connection to node 0 is handed out again');
      const single = await mysql.createConnection({ ...mysqlConnectionOptions(settings), connectTimeout: 5_000 });
      connections.push(single);
      const [rows] = await single.query<mysql.RowDataPacket[]>('SELECT @@port AS port, COUNT(*) AS n FROM item');
      assert.equal(rows[0].port, ports[1], 'a new connection of the same list goes to node 1 too');
    } finally {
      await dataSource.destroy();
      await cluster.query(0, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
      await cluster.waitSynced();
    }
  });

  test('[mysql] host listing the three nodes: when the node in use is killed, the next queries go to another node', async () => {
    const { database } = buildConfig({ mysql: { host: cluster.hostList, db: cluster.database, user: cluster.user, password: cluster.password } });
    const settings = database as MysqlSettings;
    const ports = cluster.nodes.map((node) => node.port);
    const nodeOf = async (rows: Promise<{ port: number }[]>) => ports.indexOf(Number((await rows)[0].port));

    const dataSource = new DataSource(dataSourceOptions(settings, 16));
    await dataSource.initialize();
    try {
      assert.equal(await nodeOf(dataSource.query('SELECT @@port AS port')), 0, 'the pool starts on the first node');
      await cluster.kill(0);
      // A query may still be handed a pooled connection to node 0 that died with it.
      const retried = await dataSource.query('SELECT @@port AS port').catch(() => dataSource.query('SELECT @@port AS port'));
      assert.equal(await nodeOf(Promise.resolve(retried)), 1, "the pool's next connection goes to node 1");
      await dataSource.query('INSERT INTO item (id, v) VALUES (4, 40)');

      const single = await mysql.createConnection({ ...mysqlConnectionOptions(settings), connectTimeout: 5_000 });
      connections.push(single);
      await single.query('SET SESSION wsrep_sync_wait = 1');
      const [rows] = await single.query<mysql.RowDataPacket[]>('SELECT @@port AS port, v FROM item WHERE id = 4');
      assert.deepEqual(rows, [{ port: ports[1], v: 40 }], 'a new connection of the same list also goes to node 1, and reads the write');
    } finally {
      await dataSource.destroy();
    }
  });
});
