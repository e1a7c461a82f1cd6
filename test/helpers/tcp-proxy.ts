import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between a server under test and a real service (MariaDB on 3306), so a
 * test can make the network fail the way networks do, with the real client libraries in between:
 *
 * - pause():  nothing moves in either direction, on open and new connections (a hung database or
 *             a black-holed network: statements wait for their timeouts). Data already sent stays
 *             queued and flows on resume().
 * - cut():    every open connection is reset and new ones are dropped right after accept (the
 *             database went away: clients fail fast).
 * - delay(ms): a slow network or database: every chunk, in either direction, is delivered ms later
 *             than it arrived, in order (so a round trip costs 2 x ms). delay(0) stops adding latency;
 *             chunks already held still arrive at their time.
 * - swallowReplies(): requests still reach the service, but its answers never reach the client:
 *             at the first answer the client's connection is reset, while the service's side is
 *             kept open and read until it has finished (a statement committed whose answer was
 *             lost: the client cannot tell whether it was applied).
 * - resume(): back to forwarding without added latency; new connections reach the service again.
 */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private paused = false;
  private cutOff = false;
  private latencyMs = 0;
  private swallowing = false;
  /** Service-side sockets whose client was reset by swallowReplies(): read to the end, never forwarded. */
  private readonly orphans = new WeakSet<net.Socket>();
  /** Connections accepted so far (including dropped ones). */
  accepted = 0;
  /** Bytes forwarded from the service to the clients. */
  bytesDown = 0;

  private constructor(readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on 127.0.0.1 on a port chosen by the OS. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Open connection pairs (client side and service side each count once). */
  get openSockets(): number {
    return this.sockets.size;
  }

  pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  delay(ms: number): void {
    this.latencyMs = ms;
  }

  swallowReplies(): void {
    this.swallowing = true;
  }

  resume(): void {
    this.paused = false;
    this.cutOff = false;
    this.latencyMs = 0;
    this.swallowing = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      // Explicitly paused before any 'data' listener exists, so adding the listener keeps it paused.
      if (this.paused) socket.pause();
      socket.on('close', () => this.sockets.delete(socket));
    }
    this.forward(client, upstream, false);
    this.forward(upstream, client, true);
  }

  private forward(from: net.Socket, to: net.Socket, down: boolean): void {
    const delayed = new DelayLine(to);
    from.on('data', (chunk: Buffer) => {
      if (down && (this.swallowing || this.orphans.has(from))) {
        if (!this.orphans.has(from)) {
          this.orphans.add(from);
          to.resetAndDestroy();
          // Let the service finish (and commit) what it was sent, then hang up.
          setTimeout(() => from.end(), 1_000).unref();
        }
        return;
      }
      if (down) this.bytesDown += chunk.length;
      if (this.latencyMs > 0 || delayed.holding) {
        // Held chunks keep their order; backpressure is not worth it for the few bytes tests send here.
        delayed.push(chunk, Date.now() + this.latencyMs);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!this.paused) from.resume();
        });
      }
    });
    from.on('end', () => (delayed.holding ? delayed.push(null, 0) : to.end()));
    from.on('error', () => {
      if (!this.orphans.has(to)) to.destroy();
    });
    from.on('close', () => {
      if (this.orphans.has(to)) return; // swallowReplies(): the service side ends by itself
      // A half-closed peer still gets what was held for it; a reset or a cut drops it.
      if (!delayed.holding || from.errored) to.destroy();
    });
  }
}

/** Chunks on their way to one socket, each delivered at its time and never before an earlier one. */
class DelayLine {
  private readonly queue: { chunk: Buffer | null; at: number }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly to: net.Socket) {}

  get holding(): boolean {
    return this.queue.length > 0;
  }

  /** `null` is the end of the stream: it follows the data before it. */
  push(chunk: Buffer | null, at: number): void {
    const last = this.queue.at(-1);
    this.queue.push({ chunk, at: Math.max(at, last?.at ?? 0) });
    this.arm();
  }

  private arm(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.flush();
      },
      Math.max(0, this.queue[0].at - Date.now()),
    );
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0].at <= Date.now()) {
      const { chunk } = this.queue.shift() as { chunk: Buffer | null };
      if (this.to.destroyed) {
        this.queue.length = 0;
        return;
      }
      if (chunk === null) this.to.end();
      else this.to.write(chunk);
    }
    this.arm();
  }
}
