/**
 * Spots one server error in the bytes a MySQL server sends, for the failover socket (mysql-hosts.ts),
 * which passes the protocol through without parsing it: a Galera node outside the primary component
 * (or not yet synced, or told to reject queries) greets and logs in like any server, and then
 * refuses every statement with errno 1047, ER_UNKNOWN_COM_ERROR ("WSREP has not yet prepared node
 * for application use"). Plain MySQL sends 1047 only for a command byte it does not know, which
 * mysql2 never sends.
 *
 * It follows the packet framing (3-byte length, sequence number, payload) and looks only at the
 * first bytes of each packet's payload: an ERR packet starts with 0xFF and its errno (little-endian);
 * no other packet a server sends to a client starts with 0xFF (a row's first column is a length-
 * encoded string, whose first byte is never 0xFF), so text inside rows is never mistaken for one. A
 * payload of 2^24-1 bytes continues in the next packet, whose start is no packet type. Compressed or
 * TLS connections have other framing: the watch stops when the client's first packet asks for either.
 */

/** ER_UNKNOWN_COM_ERROR: a Galera node that is not ready for statements. */
export const ER_UNKNOWN_COM_ERROR = 1047;

const MAX_PAYLOAD = 0xff_ff_ff;
const ERR_HEADER = 0xff;
/** Capability flags (the first 4 bytes of the client's handshake response or SSL request). */
const CLIENT_COMPRESS = 0x20;
const CLIENT_SSL = 0x800;

export class MysqlErrorWatch {
  /** Header bytes of the next packet seen so far (at most 4). */
  private readonly header = Buffer.alloc(4);
  private headerBytes = 0;
  /** Payload bytes of the current packet not seen yet. */
  private remaining = 0;
  /** The first up to 3 payload bytes of the current packet (type and errno). */
  private readonly start = Buffer.alloc(3);
  private startBytes = 0;
  private startLength = 0;
  /** The current packet continues the previous one (which had the maximal length). */
  private continuation = false;
  private stopped = false;
  private clientSpoke = false;

  constructor(private readonly errno: number) {}

  /** Bytes the client sends: only its first packet matters (does it switch to TLS or compression?). */
  clientBytes(chunk: Buffer): void {
    if (this.clientSpoke) return;
    this.clientSpoke = true;
    if (chunk.length < 8 || (chunk.readUInt32LE(4) & (CLIENT_COMPRESS | CLIENT_SSL)) !== 0) this.stopped = true;
  }

  /** Bytes the server sends, in order; true when they complete the start of an ERR packet with the watched errno. */
  serverBytes(chunk: Buffer): boolean {
    let found = false;
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      if (this.remaining === 0 && this.startBytes === this.startLength) {
        // Between packets: read a header.
        const take = Math.min(4 - this.headerBytes, chunk.length - offset);
        chunk.copy(this.header, this.headerBytes, offset, offset + take);
        this.headerBytes += take;
        offset += take;
        if (this.headerBytes < 4) break;
        this.headerBytes = 0;
        const length = this.header.readUIntLE(0, 3);
        const continuation = this.continuation;
        this.continuation = length === MAX_PAYLOAD;
        this.remaining = length;
        this.startBytes = 0;
        this.startLength = continuation ? 0 : Math.min(3, length);
        continue;
      }
      if (this.startBytes < this.startLength) {
        const take = Math.min(this.startLength - this.startBytes, chunk.length - offset);
        chunk.copy(this.start, this.startBytes, offset, offset + take);
        this.startBytes += take;
        this.remaining -= take;
        offset += take;
        if (this.startBytes === 3 && this.start[0] === ERR_HEADER && this.start.readUInt16LE(1) === this.errno) found = true;
        continue;
      }
      const skip = Math.min(this.remaining, chunk.length - offset);
      this.remaining -= skip;
      offset += skip;
    }
    return found;
  }
}
