import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { buildConfig, type MysqlSettings } from '../../src/config/config.js';
import { dataSourceOptions } from '../../src/store/data-source-options.js';
import { mysqlConnectionOptions } from '../../src/store/mysql-hosts.js';
import { MYSQL, skipUnlessMysql } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/** Settings as a config file with this `[mysql] host` list gives them. */
function settingsFor(hostList: string): MysqlSettings {
  const { database } = buildConfig({ mysql: { host: hostList, db: MYSQL.database, user: MYSQL.user, password: MYSQL.password } });
  assert.equal(database.kind, 'mysql');
  return database as MysqlSettings;
}

async function connect(settings: MysqlSettings, connectTimeout = 5_000): Promise<mysql.Connection> {
  return mysql.createConnection({ ...mysqlConnectionOptions(settings), connectTimeout });
}

async function selectOne(connection: mysql.Connection): Promise<number> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT 1 AS one');
  return rows[0].one as number;
}

describe('[mysql] host with several servers: failover', { skip: await skipUnlessMysql('mysql') }, () => {
  let a: TcpProxy;
  let b: TcpProxy;
  let dead: number;
  const open: mysql.Connection[] = [];

  before(async () => {
    a = await TcpProxy.start(MYSQL);
    b = await TcpProxy.start(MYSQL);
    dead = await freePort();
  });
  after(async () => {
    for (const connection of open) connection.destroy();
    await a.close();
    await b.close();
  });

  test('a single server connects as before: no failover socket in between', () => {
    const options = mysqlConnectionOptions(settingsFor('127.0.0.1:3306'));
    assert.deepEqual(options, { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' });
  });

  test('connections go to the first server that answers, and to the next one once it is lost', async () => {
    const settings = settingsFor(`127.0.0.1:${dead},127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    const first = await connect(settings);
    open.push(first);
    assert.equal(await selectOne(first), 1);
    assert.deepEqual([a.accepted, b.accepted], [1, 0], 'past the dead port to A');

    const second = await connect(settings);
    open.push(second);
    assert.equal(await selectOne(second), 1);
    assert.deepEqual([a.accepted, b.accepted], [2, 0], 'A again: it answered last');

    a.cut();
    await assert.rejects(selectOne(first), /Connection lost|ECONNRESET/, 'an open connection to A is lost');
    const third = await connect(settings);
    open.push(third);
    assert.equal(await selectOne(third), 1);
    assert.deepEqual([a.accepted, b.accepted], [2, 1], 'the connection after the loss goes straight to B');

    a.resume();
    const fourth = await connect(settings);
    open.push(fourth);
    assert.equal(await selectOne(fourth), 1);
    assert.deepEqual([a.accepted, b.accepted], [2, 2], 'B stays first while it answers, although A is back');
  });

  test('a server that accepts connections but never greets (hung) is passed over within the connect timeout', async () => {
    const hung = await TcpProxy.start(MYSQL);
    const c = await TcpProxy.start(MYSQL);
    try {
      hung.pause();
      const settings = settingsFor(`127.0.0.1:${hung.port},127.0.0.1:${c.port}`);
      const started = Date.now();
      const connection = await connect(settings, 2_000);
      open.push(connection);
      assert.equal(await selectOne(connection), 1);
      const elapsed = Date.now() - started;
      assert.equal(hung.accepted, 1);
      assert.equal(c.accepted, 1);
      assert.ok(elapsed >= 900 && elapsed < 2_000, `half of the 2 s connect timeout on the hung server, then C (took ${elapsed} ms)`);
    } finally {
      await hung.close();
      await c.close();
    }
  });

  test('when no server answers, the connection fails with an error naming each of them', async () => {
    const other = await freePort();
    const settings = settingsFor(`127.0.0.1:${dead},127.0.0.1:${other}`);
    await assert.rejects(connect(settings), (error: Error & { code?: string; fatal?: boolean }) => {
      assert.equal(error.message, `no MySQL server answered: 127.0.0.1:${dead} (ECONNREFUSED), 127.0.0.1:${other} (ECONNREFUSED)`);
      assert.equal(error.code, 'ECONNREFUSED');
      assert.equal(error.fatal, true, 'mysql2 reports it as a connection error');
      return true;
    });
  });

  test("the server's pool (TypeORM) fails over the same way", async () => {
    const d = await TcpProxy.start(MYSQL);
    const e = await TcpProxy.start(MYSQL);
    const settings = settingsFor(`127.0.0.1:${d.port},127.0.0.1:${e.port}`);
    const dataSource = new DataSource(dataSourceOptions(settings, 16));
    try {
      await dataSource.initialize();
      assert.deepEqual(await dataSource.query('SELECT 1 AS one'), [{ one: 1 }]);
      assert.ok(d.accepted >= 1 && e.accepted === 0, 'the pool uses D');
      d.cut();
      // A query may still be handed the pooled connection that D's cut reset (and fail); the
      // pool's next connection goes to E.
      const answer: unknown = await dataSource.query('SELECT 1 AS one').catch((error: Error) => error);
      assert.deepEqual(answer instanceof Error ? await dataSource.query('SELECT 1 AS one') : answer, [{ one: 1 }]);
      assert.ok(e.accepted >= 1, 'the pool moved to E');
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await d.close();
      await e.close();
    }
  });
});
