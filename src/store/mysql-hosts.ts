/**
 * Connections to the first server of `[mysql] host` that answers, for a list of interchangeable
 * servers (a Galera cluster's nodes): mysql2 has no host list of its own, but takes a `stream`
 * factory, so each connection gets a socket that tries the servers in turn and then passes bytes
 * through untouched (the MySQL protocol, TLS included, runs over it as over a plain socket).
 *
 * A server counts as answering once its greeting arrives, not at the TCP connect: a hung server
 * (or a black-holed network) may still accept connections. Each server gets an equal share of the
 * connection's connect timeout. Every connection starts with the server that answered last and
 * goes down the list from there; a connection lost by the server (crash, shutdown, network) sends
 * the next ones to the following server first. With a single server nothing of this is used:
 * mysql2 connects as it always did.
 *
 * A Galera node outside the primary component (or not synced yet) greets too, and then refuses
 * every statement with errno 1047 (mysql-error-watch.ts). The first such refusal marks the server
 * unusable: new connections try the next one first, and every connection to it is closed once the
 * refusal has reached its caller (a pool would otherwise keep handing them out), so the caller's
 * retry runs on another server.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { MysqlAddress, MysqlSettings } from '../config/config.js';
import { ER_UNKNOWN_COM_ERROR, MysqlErrorWatch } from './mysql-error-watch.js';

/** A share of the connect timeout below this is too short for a greeting from a busy server. */
const MIN_ATTEMPT_MS = 250;
/** A server that has not greeted within this has hung: the others are worth trying sooner. */
const MAX_ATTEMPT_MS = 2_000;
/** mysql2's own default, for callers that give none. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** What mysql2 passes to a `stream` factory (base/connection.js): its connection config, of which these are read. */
export interface StreamFactoryOptions {
  config: { connectTimeout?: number; enableKeepAlive?: boolean; keepAliveInitialDelay?: number };
}

export type MysqlStreamFactory = (options: StreamFactoryOptions) => Duplex;

/** How to reach the database, to spread into mysql2's createConnection() options. */
export interface MysqlConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Only with more than one server. */
  stream?: MysqlStreamFactory;
}

/** `host:port`, with an IPv6 address in brackets. */
export function addressText({ host, port }: MysqlAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The servers of one host list and which of them to try first; shared by every connection to that list. */
export class MysqlHostList {
  /** Index of the server to try first. */
  private preferred = 0;
  /** The connections attached to a server, by its index: closed when it refuses statements. */
  private readonly attached = new Map<number, Set<FailoverSocket>>();

  constructor(readonly hosts: readonly MysqlAddress[]) {
    if (hosts.length === 0) throw new Error('MysqlHostList: no hosts');
  }

  /** mysql2's `stream` option: mysql2 calls it for every new connection (pools included). */
  readonly stream: MysqlStreamFactory = (options) => {
    const connectTimeout = options.config.connectTimeout || DEFAULT_CONNECT_TIMEOUT_MS;
    const attemptMs = Math.min(MAX_ATTEMPT_MS, Math.max(MIN_ATTEMPT_MS, Math.floor(connectTimeout / this.hosts.length)));
    const keepAliveMs = options.config.enableKeepAlive ? (options.config.keepAliveInitialDelay ?? 0) : null;
    return new FailoverSocket(this, this.order(), attemptMs, keepAliveMs);
  };

  /** The server that answered last first, then the ones after it, wrapping around. */
  order(): number[] {
    return this.hosts.map((_, k) => (this.preferred + k) % this.hosts.length);
  }

  /** @internal A connection to hosts[index] was greeted. */
  answered(index: number, socket: FailoverSocket): void {
    this.preferred = index;
    let sockets = this.attached.get(index);
    if (sockets === undefined) this.attached.set(index, (sockets = new Set()));
    sockets.add(socket);
  }

  /** @internal That connection to hosts[index] is closed. */
  detached(index: number, socket: FailoverSocket): void {
    this.attached.get(index)?.delete(socket);
  }

  /**
   * @internal hosts[index] refused a statement as a node not ready for them: new connections try
   * the next server first, and every connection to this one is closed (each fails what it has in
   * flight, which the node would refuse too).
   */
  unusable(index: number): void {
    this.lost(index);
    for (const socket of [...(this.attached.get(index) ?? [])]) socket.retire();
  }

  /** @internal The server closed a connection to hosts[index]: new connections try the next one first. */
  lost(index: number): void {
    if (this.preferred === index) this.preferred = (index + 1) % this.hosts.length;
  }
}

/** Host lists by settings object, so the pool and every other connection of one config share what they learn. */
const lists = new WeakMap<MysqlSettings, MysqlHostList>();

/** The host list of these settings (the same object for the same settings). */
export function mysqlHostList(settings: MysqlSettings): MysqlHostList {
  let list = lists.get(settings);
  if (list === undefined) {
    list = new MysqlHostList(settings.hosts);
    lists.set(settings, list);
  }
  return list;
}

/** `{ stream }` for mysql2's connection or pool options when the settings list several servers; `{}` for one. */
export function mysqlStreamOption(settings: MysqlSettings): { stream?: MysqlStreamFactory } {
  return settings.hosts.length > 1 ? { stream: mysqlHostList(settings).stream } : {};
}

/** Everything mysql2's createConnection() needs to reach the database of these settings, failover included. */
export function mysqlConnectionOptions(settings: MysqlSettings): MysqlConnectionOptions {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.db,
    ...mysqlStreamOption(settings),
  };
}

/** Raised (as the stream's 'error', so mysql2 reports a connection error) when no server answered. */
export class NoMysqlHostError extends Error {
  override name = 'NoMysqlHostError';
  /** Like a socket's error code: the common one when every server failed alike, else the last server's. */
  readonly code: string;

  constructor(readonly failures: { address: string; reason: string; code: string }[]) {
    super(`no MySQL server answered: ${failures.map((failure) => `${failure.address} (${failure.reason})`).join(', ')}`);
    const codes = new Set(failures.map((failure) => failure.code));
    this.code = codes.size === 1 ? [...codes][0] : (failures.at(-1)?.code ?? 'ECONNREFUSED');
  }
}

/**
 * A Duplex that stands for a socket to the first server of `order` that greets in time. Writes
 * wait until then (mysql2 writes nothing before the greeting anyway, but TLS or a queued command
 * might); afterwards bytes flow both ways with backpressure, and the server's end, close or error
 * are this stream's.
 */
class FailoverSocket extends Duplex {
  private upstream: net.Socket | null = null;
  private upstreamIndex = -1;
  private attempt: { socket: net.Socket; timer: NodeJS.Timeout } | null = null;
  private pendingWrite: { chunk: Buffer; callback: (error?: Error | null) => void } | null = null;
  private readonly failures: { address: string; reason: string; code: string }[] = [];
  private readonly watch = new MysqlErrorWatch(ER_UNKNOWN_COM_ERROR);
  /** Set once this side ends or destroys the stream, or the server is lost: a close after that is no (new) lost server. */
  private closing = false;

  constructor(
    private readonly list: MysqlHostList,
    private readonly order: number[],
    private readonly attemptMs: number,
    private readonly keepAliveMs: number | null,
  ) {
    // Like a net.Socket: the server's end closes the stream, so mysql2 sees the connection lost.
    super({ allowHalfOpen: false });
    this.tryHost(0);
  }

  private tryHost(k: number): void {
    if (this.destroyed || this.closing) return;
    if (k >= this.order.length) {
      this.destroy(new NoMysqlHostError(this.failures));
      return;
    }
    const index = this.order[k];
    const address = this.list.hosts[index];
    const socket = net.connect({ host: address.host, port: address.port });
    socket.setNoDelay(true);
    let settled = false;
    const fail = (reason: string, code: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {}); // a late reset of an abandoned socket is no one's business
      socket.destroy();
      this.attempt = null;
      this.failures.push({ address: addressText(address), reason, code });
      this.tryHost(k + 1);
    };
    const timer = setTimeout(() => fail(`no greeting within ${this.attemptMs} ms`, 'ETIMEDOUT'), this.attemptMs);
    socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message, error.code ?? 'ECONNREFUSED'));
    socket.once('close', () => fail('closed before its greeting', 'ECONNRESET'));
    socket.once('data', (greeting: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      this.attempt = null;
      this.attach(socket, index, greeting);
    });
    this.attempt = { socket, timer };
  }

  /** From here on this stream is that socket. Synchronous from its first 'data', so no chunk can slip by. */
  private attach(socket: net.Socket, index: number, greeting: Buffer): void {
    this.upstream = socket;
    this.upstreamIndex = index;
    this.list.answered(index, this);
    if (this.keepAliveMs !== null) socket.setKeepAlive(true, this.keepAliveMs);
    socket.on('data', (chunk: Buffer) => {
      const refused = this.watch.serverBytes(chunk);
      if (!this.push(chunk)) socket.pause();
      if (refused) this.list.unusable(index);
    });
    socket.on('end', () => {
      this.serverLost();
      this.push(null);
    });
    socket.on('error', (error) => {
      this.serverLost();
      this.destroy(error);
    });
    socket.on('close', () => {
      this.serverLost();
      this.destroy();
    });
    this.watch.serverBytes(greeting);
    if (!this.push(greeting)) socket.pause();
    const pending = this.pendingWrite;
    this.pendingWrite = null;
    if (pending) this.forward(socket, pending.chunk, pending.callback);
  }

  /** A write the server's reset fails is a lost server too, and it is noticed here first (before the socket's 'error'). */
  private forward(socket: net.Socket, chunk: Buffer, callback: (error?: Error | null) => void): void {
    this.watch.clientBytes(chunk);
    socket.write(chunk, (error) => {
      if (error) this.serverLost();
      callback(error);
    });
  }

  /**
   * @internal Closes this connection to a server that refuses statements. Once the refusal has been
   * read (mysql2 reads pushed bytes at once unless it paused the stream), so that its caller gets
   * the server's error rather than a lost connection; otherwise after a polite end, which lets the
   * server's answers arrive first.
   */
  retire(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.readableLength === 0) this.destroy();
    else this.upstream?.end();
  }

  /** The server ended, reset or failed the connection (before this side closed it): a lost server. */
  private serverLost(): void {
    if (this.closing) return;
    this.closing = true;
    this.list.lost(this.upstreamIndex);
  }

  override _read(): void {
    this.upstream?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.upstream) this.forward(this.upstream, chunk, callback);
    else this.pendingWrite = { chunk, callback };
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closing = true;
    if (this.upstream) this.upstream.end(callback);
    else {
      // Ended before any server answered: nothing to say goodbye to.
      callback();
      this.destroy();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closing = true;
    if (this.upstreamIndex >= 0) this.list.detached(this.upstreamIndex, this);
    this.abandonAttempt();
    this.upstream?.destroy();
    callback(error);
  }

  private abandonAttempt(): void {
    if (this.attempt === null) return;
    clearTimeout(this.attempt.timer);
    this.attempt.socket.removeAllListeners();
    this.attempt.socket.on('error', () => {});
    this.attempt.socket.destroy();
    this.attempt = null;
  }
}
