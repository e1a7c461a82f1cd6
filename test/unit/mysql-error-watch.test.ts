import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ER_UNKNOWN_COM_ERROR, MysqlErrorWatch } from '../../src/store/mysql-error-watch.js';

/** One protocol packet: 3-byte length, sequence number, payload. */
function packet(payload: Buffer, sequence = 1): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

/** An ERR packet's payload: 0xFF, errno, `#` and SQL state, message. */
function errPayload(errno: number, message = 'WSREP has not yet prepared node for application use'): Buffer {
  const start = Buffer.alloc(3);
  start[0] = 0xff;
  start.writeUInt16LE(errno, 1);
  return Buffer.concat([start, Buffer.from(`#08S01${message}`)]);
}

/** A text-protocol row of one column: a length-encoded string. */
function rowPayload(value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([value.length]), value]);
}

const greeting = packet(Buffer.from('\x0a10.11.19-MariaDB\0 greeting'), 0);
/** The client's handshake response: capability flags (no TLS, no compression) first. */
const handshake = packet(Buffer.concat([Buffer.from([0x0f, 0xa2, 0x0a, 0x00]), Buffer.alloc(40)]));

function watchAfterLogin(): MysqlErrorWatch {
  const watch = new MysqlErrorWatch(ER_UNKNOWN_COM_ERROR);
  assert.equal(watch.serverBytes(greeting), false);
  watch.clientBytes(handshake);
  return watch;
}

describe('MysqlErrorWatch', () => {
  test('finds an ERR packet with errno 1047, also split across chunks byte by byte', () => {
    assert.equal(watchAfterLogin().serverBytes(packet(errPayload(1047))), true);
    const watch = watchAfterLogin();
    const bytes = packet(errPayload(1047));
    const seen = [...bytes].map((byte) => watch.serverBytes(Buffer.from([byte])));
    assert.deepEqual(
      seen.map((found, i) => (found ? i : -1)).filter((i) => i >= 0),
      [6],
      'found once, when the errno is complete',
    );
  });

  test('passes over other errors, OK packets and rows holding the very bytes of an ERR packet', () => {
    const watch = watchAfterLogin();
    assert.equal(watch.serverBytes(packet(errPayload(1213, 'Deadlock found'))), false);
    assert.equal(watch.serverBytes(packet(Buffer.from([0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00]))), false);
    const trap = packet(errPayload(1047));
    // A job body that spells out a whole ERR packet, header included, as a row's value.
    assert.equal(watch.serverBytes(Buffer.concat([packet(rowPayload(trap), 2), packet(rowPayload(errPayload(1047)), 3)])), false);
    assert.equal(watch.serverBytes(packet(errPayload(1047), 4)), true, 'a real one right after is still found');
  });

  test('the continuation of a 16 MB payload is no packet start', () => {
    const watch = watchAfterLogin();
    const big = Buffer.alloc(0xff_ff_ff, 0x61);
    big[0] = 0xfc; // a row whose value is long
    assert.equal(watch.serverBytes(packet(big, 2)), false);
    assert.equal(watch.serverBytes(packet(errPayload(1047), 3)), false, 'the continuation starts with 0xFF 0x17 0x04 by chance');
    assert.equal(watch.serverBytes(packet(errPayload(1047), 4)), true);
  });

  test('stops when the client asks for TLS (or compression): the bytes are no longer plain packets', () => {
    const watch = new MysqlErrorWatch(ER_UNKNOWN_COM_ERROR);
    watch.serverBytes(greeting);
    const sslRequest = packet(Buffer.concat([Buffer.from([0x0f, 0xaa, 0x0a, 0x00]), Buffer.alloc(28)]));
    watch.clientBytes(sslRequest);
    assert.equal(watch.serverBytes(packet(errPayload(1047), 2)), false);
  });
});
