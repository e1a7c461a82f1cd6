import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { installDatadir, LOOPBACK, MariadbdProcess, queryOnce, ROOT_USER, SMALL_INNODB, waitPortsFree } from './mariadbd-process.js';

/**
 * A MariaDB Galera cluster of the test's own on 127.0.0.1 (3 nodes by default), for tests of Dalga
 * on a distributed database: a node can be crashed (`kill(i)`, SIGKILL) and brought back
 * (`restart(i)`, it rejoins by IST or rsync SST), while the others go on.
 *
 * Every port is chosen free at run time: per node the SQL port, the group (gmcast) port, the IST
 * port and the SST (rsync daemon) port. Each node has a folder of its own under one temp folder:
 * datadir, my.cnf, socket, pid file, error log. Node 0 bootstraps the cluster; the others join it
 * one after the other (each by a full rsync SST from a donor). Log in as root with an empty
 * password; the database `test` exists.
 *
 * Time, measured on a 2-core machine with other work running (MariaDB 10.11.19, galera-4
 * 26.4.23, four runs): start() of 3 nodes 10-13 s (datadirs 0.6 s each, node 0 about 1 s, then
 * about 5 s per joiner: 1.5 s to join the group, 2 s of rsync SST, 0.5 s of SST clean-up).
 * restart(i) of a killed node, Synced with the cluster size restored: 3.3-4.8 s (position
 * recovery, then IST). After kill(i) the others drop the node (cluster size n-1) 3-4.5 s later,
 * and a write on them waits that long. All nodes killed, then restarted one by one: 7-9.5 s.
 * Budget about 15 s per cluster and 5 s per restart.
 * Measured again on this machine (2 cores, December 2026): start() 14.6 s; restart(i) of a node
 * killed a moment before, while the others were still dropping it: 12.3 s.
 *
 * rsync SST as root: the SST script starts an rsync daemon that writes as `nobody`, so a joiner's
 * datadir is handed to nobody before every start (see openToRsync).
 */

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

/**
 * `{ skip }` option for node:test: skip the Galera tests on a machine without Debian's galera-4
 * package, but never in CI (CI=true), where they must run (and fail if Galera is missing).
 */
export function skipUnlessGalera(): string | false {
  if (existsSync(GALERA_PROVIDER) || process.env.CI) return false;
  const note = `${GALERA_PROVIDER} absent (apt-get install galera-4): Galera tests skipped`;
  process.stderr.write(`NOTE: ${note}\n`);
  return note;
}

/**
 * Failure detection a test can wait for: a killed node is suspected after 3 s instead of 5 s and
 * evicted after 6 s instead of 15 s. Still far above loopback latency, so no false alarms.
 */
const FAST_FAILURE_DETECTION = ['evs.suspect_timeout=PT3S', 'evs.inactive_timeout=PT6S', 'evs.install_timeout=PT5S'];

const run = promisify(execFile);

export interface GaleraClusterOptions {
  /** How many nodes. Default 3: the smallest cluster that keeps quorum with one node down. */
  nodes?: number;
  /** How long one node gets to start or rejoin (a full SST included). Default 120 s. */
  nodeTimeoutMs?: number;
}

/** Where a node takes SQL. */
export interface GaleraNodeAddress {
  host: string;
  port: number;
}

/** A node's ports, folder and process. */
interface Member {
  index: number;
  dir: string;
  sqlPort: number;
  groupPort: number;
  istPort: number;
  sstPort: number;
  server: MariadbdProcess | null;
}

export class GaleraCluster {
  readonly database = 'test';
  readonly user = ROOT_USER.user;
  readonly password = ROOT_USER.password;
  /** SQL addresses, node 0 first. */
  readonly nodes: GaleraNodeAddress[];
  /** `127.0.0.1:p0,127.0.0.1:p1,...`: the nodes as a Dalga config's `[mysql] host` lists them. */
  readonly hostList: string;
  private destroyed = false;

  private constructor(
    /** The temp folder holding every node's folder. Removed by destroy(). */
    readonly dir: string,
    private readonly members: Member[],
    private readonly clusterName: string,
    private readonly nodeTimeoutMs: number,
  ) {
    this.nodes = members.map((member) => ({ host: LOOPBACK, port: member.sqlPort }));
    this.hostList = this.nodes.map((node) => `${node.host}:${node.port}`).join(',');
  }

  /** Initialises every node, bootstraps node 0, joins the others; resolves with all Synced and `test` created. */
  static async start(options: GaleraClusterOptions = {}): Promise<GaleraCluster> {
    const count = options.nodes ?? 3;
    if (!Number.isInteger(count) || count < 1) throw new Error(`GaleraCluster: nodes must be a whole number >= 1, not ${count}`);
    const dir = mkdtempSync(join(tmpdir(), 'dalga-galera-'));
    const ports = await distinctFreePorts(count * 4);
    const members: Member[] = [];
    for (let index = 0; index < count; index++) {
      const [sqlPort, groupPort, istPort, sstPort] = ports.slice(index * 4, index * 4 + 4);
      members.push({ index, dir: join(dir, `node${index}`), sqlPort, groupPort, istPort, sstPort, server: null });
    }
    const cluster = new GaleraCluster(dir, members, `dalga_${randomBytes(4).toString('hex')}`, options.nodeTimeoutMs ?? 120_000);
    try {
      // One after the other: on two cores, parallel installs are no faster.
      for (const member of members) {
        mkdirSync(join(member.dir, 'data'), { recursive: true });
        await installDatadir(join(member.dir, 'data'), join(member.dir, 'install.log'));
        writeFileSync(join(member.dir, 'my.cnf'), cluster.myCnf(member));
      }
      await cluster.launch(members[0], true);
      await queryOnce(members[0].sqlPort, undefined, `CREATE DATABASE IF NOT EXISTS \`${cluster.database}\``);
      // Joiners one at a time: each needs a donor, and a donor serves one SST at a time.
      for (const member of members.slice(1)) await cluster.launch(member, false);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** Whether node i's process runs (it may still be joining). */
  running(i: number): boolean {
    return this.member(i).server?.running ?? false;
  }

  /**
   * Crashes node i with SIGKILL (with any SST script or rsync daemon it started); resolves once it
   * has exited and its ports are free. The others notice only after the failure detection timeouts.
   */
  async kill(i: number): Promise<void> {
    const member = this.member(i);
    if (member.server === null) return;
    await member.server.kill();
    await waitPortsFree([member.sqlPort, member.groupPort, member.istPort, member.sstPort], member.server.label);
  }

  /**
   * Starts node i again on its datadir and ports. It rejoins the running nodes (IST when their
   * cache still holds what it missed, else a full SST); when no other node runs, it bootstraps a
   * new cluster from its own data. Resolves once it is Synced and the cluster size counts every
   * running node.
   */
  async restart(i: number): Promise<void> {
    const member = this.member(i);
    if (this.destroyed) throw new Error(`${this.label(member)}: restart() after destroy()`);
    if (this.running(i)) throw new Error(`${this.label(member)}: restart() while it runs; kill(${i}) first`);
    const alone = this.members.every((other) => other === member || !this.running(other.index));
    if (alone) allowBootstrap(member);
    await this.launch(member, alone, await this.recoverPosition(member));
  }

  /**
   * Waits until every running node is Synced in one primary cluster of all of them (after a
   * kill(), until the others have dropped the dead node).
   */
  async waitSynced(timeoutMs = this.nodeTimeoutMs): Promise<void> {
    const running = this.members.filter((member) => this.running(member.index));
    for (const member of running) {
      await (member.server as MariadbdProcess).waitUntil(
        async () => {
          const status = await this.wsrepStatus(member);
          const ready = status['wsrep_local_state_comment'] === 'Synced' && Number(status['wsrep_cluster_size']) === running.length;
          return ready ? true : null;
        },
        `Synced in a cluster of ${running.length}`,
        timeoutMs,
      );
    }
  }

  /** `wsrep_cluster_size` as node i sees it. */
  async clusterSize(i: number): Promise<number> {
    return Number((await this.wsrepStatus(this.member(i)))['wsrep_cluster_size']);
  }

  /** One statement on a fresh connection to node i, in database `test`. */
  query(i: number, sql: string, params: unknown[] = []): Promise<unknown> {
    return queryOnce(this.member(i).sqlPort, this.database, sql, params);
  }

  /** The tail of node i's error log, for assertion messages. */
  logTail(i: number, lines?: number): string {
    return this.member(i).server?.logTail(lines) ?? '(never started)';
  }

  /** Kills every node and removes the folders. Safe to call twice (after() hooks). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.members.map((member) => member.server?.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private member(i: number): Member {
    const member = this.members[i];
    if (member === undefined) throw new Error(`GaleraCluster: no node ${i} (nodes 0..${this.members.length - 1})`);
    return member;
  }

  private label(member: Member): string {
    return `Galera node ${member.index} (${LOOPBACK}:${member.sqlPort})`;
  }

  private myCnf(member: Member): string {
    const providerOptions = [
      `gmcast.listen_addr=tcp://${LOOPBACK}:${member.groupPort}`,
      `ist.recv_addr=${LOOPBACK}:${member.istPort}`,
      // The default 128M ring buffer file is written out in full at every start.
      'gcache.size=32M',
      ...FAST_FAILURE_DETECTION,
    ];
    const lines = [
      '[mariadbd]',
      `datadir=${join(member.dir, 'data')}`,
      `port=${member.sqlPort}`,
      `bind-address=${LOOPBACK}`,
      `socket=${join(member.dir, 'mariadbd.sock')}`,
      `pid-file=${join(member.dir, 'mariadbd.pid')}`,
      `log-error=${join(member.dir, 'error.log')}`,
      'user=root',
      'skip-name-resolve',
      'skip-log-bin',
      'port-open-timeout=10',
      ...SMALL_INNODB.map((option) => option.replace(/^--/, '')),
      // What Galera needs: row events, InnoDB, interleaved auto-increment locks.
      'binlog_format=ROW',
      'default_storage_engine=InnoDB',
      'innodb_autoinc_lock_mode=2',
      'wsrep_on=ON',
      `wsrep_provider=${GALERA_PROVIDER}`,
      // A name of its own: a node never joins another test's cluster that reuses a port.
      `wsrep_cluster_name=${this.clusterName}`,
      `wsrep_cluster_address=gcomm://${this.members.map((other) => `${LOOPBACK}:${other.groupPort}`).join(',')}`,
      `wsrep_node_name=node${member.index}`,
      `wsrep_node_address=${LOOPBACK}:${member.groupPort}`,
      `wsrep_node_incoming_address=${LOOPBACK}:${member.sqlPort}`,
      `wsrep_provider_options="${providerOptions.join(';')}"`,
      'wsrep_sst_method=rsync',
      `wsrep_sst_receive_address=${LOOPBACK}:${member.sstPort}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  /**
   * After a crash grastate.dat says seqno -1: Galera does not know how far this node got and
   * would ask for a full SST. `mariadbd --wsrep-recover` reads the position from InnoDB (what
   * galera_recovery does under systemd), so that the node can catch up by IST instead. Null when
   * there is nothing to recover (a clean stop) or nothing usable (a node killed during its first
   * SST, whose datadir is half copied): then a full SST replaces the datadir, as it would in
   * production.
   */
  private async recoverPosition(member: Member): Promise<string | null> {
    const grastate = join(member.dir, 'data', 'grastate.dat');
    if (!existsSync(grastate) || !/^seqno:\s*-1\s*$/m.test(readFileSync(grastate, 'utf8'))) return null;
    const log = join(member.dir, 'recover.log');
    rmSync(log, { force: true });
    const recovery = MariadbdProcess.spawn([`--defaults-file=${join(member.dir, 'my.cnf')}`, '--wsrep-recover', `--log-error=${log}`], {
      label: `${this.label(member)} --wsrep-recover`,
      errorLog: log,
      consoleLog: join(member.dir, 'console.log'),
    });
    await recovery.waitExit();
    const position = /WSREP: Recovered position: *(\S+)/.exec(existsSync(log) ? readFileSync(log, 'utf8') : '')?.[1];
    if (recovery.exitStatus !== 'code 0' || position === undefined || position.endsWith(':-1')) return null;
    return position;
  }

  /** Starts a node and waits until it is Synced in a cluster of every running node. */
  private async launch(member: Member, bootstrap: boolean, startPosition: string | null = null): Promise<void> {
    await openToRsync(member);
    const args = [`--defaults-file=${join(member.dir, 'my.cnf')}`];
    if (bootstrap) args.push('--wsrep-new-cluster');
    if (startPosition !== null) args.push(`--wsrep-start-position=${startPosition}`);
    const server = MariadbdProcess.spawn(args, {
      label: this.label(member),
      errorLog: join(member.dir, 'error.log'),
      consoleLog: join(member.dir, 'console.log'),
    });
    member.server = server;
    const expected = this.members.filter((other) => this.running(other.index)).length;
    try {
      await server.waitUntil(
        async () => {
          const status = await this.wsrepStatus(member);
          return status['wsrep_local_state_comment'] === 'Synced' && Number(status['wsrep_cluster_size']) === expected ? true : null;
        },
        `Synced in a cluster of ${expected}`,
        this.nodeTimeoutMs,
      );
    } catch (error) {
      await server.kill(); // not joining behind the test's back
      throw error;
    }
  }

  private async wsrepStatus(member: Member): Promise<Record<string, string>> {
    const rows = (await queryOnce(
      member.sqlPort,
      undefined,
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size')",
    )) as { Variable_name: string; Value: string }[];
    return Object.fromEntries(rows.map((row) => [row.Variable_name, row.Value]));
  }
}

/**
 * Lets the SST's rsync daemon, which runs as `nobody` when root starts it, write the datadir:
 * the folders above it readable by all, the datadir and everything in it owned by nobody. Write
 * permission alone is not enough: rsync also sets each file's mode, which only the owner may, so
 * a rejoin after the server created files of its own (root's, 0660) would fail. Not my.cnf:
 * mariadbd ignores a world-writable config file. Again before every start, for the new files.
 */
async function openToRsync(member: Member): Promise<void> {
  chmodSync(dirname(member.dir), 0o755);
  chmodSync(member.dir, 0o755);
  await run('chown', ['-R', 'nobody', join(member.dir, 'data')]);
}

/**
 * A node killed last has `safe_to_bootstrap: 0` in grastate.dat: Galera refuses to bootstrap from
 * it, in case another node has newer data. In a test the node we restart alone is the one we mean.
 */
function allowBootstrap(member: Member): void {
  const file = join(member.dir, 'data', 'grastate.dat');
  if (!existsSync(file)) return;
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^safe_to_bootstrap:\s*0\s*$/m, 'safe_to_bootstrap: 1'));
}

/** `count` ports free a moment ago and different from each other (freePort() may repeat one). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
