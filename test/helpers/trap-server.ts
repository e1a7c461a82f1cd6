import net from 'node:net';

/** One connection that reached the trap. */
export interface TrapHit {
  at: number;
  /** The first bytes it sent (the request line, for HTTP), as latin1 text. */
  firstBytes: string;
}

/**
 * A TCP listener on 127.0.0.1 that nothing should ever reach: the "attacker" host of an SSRF
 * test. Every connection counts, whatever it sends (even nothing), and is closed at once.
 */
export class TrapServer {
  readonly hits: TrapHit[] = [];
  private readonly server: net.Server;

  private constructor() {
    this.server = net.createServer((socket) => {
      const hit: TrapHit = { at: Date.now(), firstBytes: '' };
      this.hits.push(hit);
      socket.once('data', (chunk: Buffer) => {
        hit.firstBytes = chunk.subarray(0, 200).toString('latin1');
        socket.destroy();
      });
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 200).unref();
    });
  }

  static async start(): Promise<TrapServer> {
    const trap = new TrapServer();
    await new Promise<void>((resolve) => trap.server.listen(0, '127.0.0.1', resolve));
    return trap;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
