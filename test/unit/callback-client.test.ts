/**
 * CallbackClient against a real local HTTP server: what it sends, how it reads the answer, and
 * what it refuses to do (retry, follow redirects, decompress, buffer a response body).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CallbackClient, type CallbackOptions } from '../../src/dispatch/callback.js';
import { callbackSignature } from '../../src/dispatch/callback-signature.js';
import { EndpointServer } from '../helpers/endpoint-server.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/free-port.js';

const SCHED = Date.UTC(2026, 10, 27, 13, 0, 5);

function client(baseUrl: string, overrides: Partial<CallbackOptions> = {}): CallbackClient {
  return new CallbackClient({ baseUrl, timeoutMs: 2_000, instanceId: 'unit-1', maxSockets: 4, ...overrides });
}

describe('CallbackClient', () => {
  let endpoint: EndpointServer;
  let callbacks: CallbackClient;

  before(async () => {
    endpoint = await EndpointServer.start();
  });
  beforeEach(() => {
    endpoint.received.length = 0;
    endpoint.responder = () => ({ status: 200 });
    callbacks = client(`${endpoint.baseUrl}hooks/`);
  });
  after(async () => {
    callbacks.close();
    await endpoint.close();
  });

  test('POSTs the body under the base URL with the Dalga headers', async () => {
    const body = 'ünïcode € 😀 body';
    const result = await callbacks.post({ path: 'feeds/check', body, sched: SCHED, attempt: 3 });
    assert.deepEqual(result, { status: 200, error: null });
    const [call] = endpoint.received;
    assert.equal(call.method, 'POST');
    assert.equal(call.path, '/hooks/feeds/check');
    assert.equal(call.body, body);
    assert.equal(call.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(call.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(call.headers['dalga-sched'], '2026-11-27T13:00:05Z');
    assert.equal(call.headers['dalga-instance'], 'unit-1');
    assert.equal(call.headers['dalga-attempt'], '3');
    assert.equal(call.headers['user-agent'], 'dalga');
    assert.equal(call.headers['dalga-signature'], undefined);
    assert.equal(call.headers['accept-encoding'], undefined, 'no decompression, so no accept-encoding');
    assert.equal(endpoint.received.length, 1);
  });

  test('with a secret, every callback carries Dalga-Signature over its body', async () => {
    const signed = client(`${endpoint.baseUrl}hooks/`, { secret: 's3cret', now: () => 1_700_000_000_999 });
    try {
      await signed.post({ path: 'signed', body: 'payload', sched: SCHED, attempt: 1 });
      assert.equal(endpoint.received[0].headers['dalga-signature'], callbackSignature('s3cret', 'payload', 1_700_000_000));
    } finally {
      signed.close();
    }
  });

  test('200 and 204 succeed; any other status is a failure, sent once (no retry)', async () => {
    for (const [status, error] of [
      [200, null],
      [204, null],
      [201, 'endpoint answered 201'],
      [404, 'endpoint answered 404'],
      [503, 'endpoint answered 503'],
    ] as const) {
      endpoint.received.length = 0;
      endpoint.responder = () => ({ status });
      assert.deepEqual(await callbacks.post({ path: 'status', body: String(status), sched: SCHED, attempt: 1 }), { status, error });
      assert.equal(endpoint.received.length, 1, `${status} was sent once`);
    }
  });

  test('a redirect is a failure, not followed', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const redirected = client(server.baseUrl);
    try {
      assert.deepEqual(await redirected.post({ path: 'moved', body: 'x', sched: SCHED, attempt: 1 }), {
        status: 302,
        error: 'endpoint answered 302',
      });
      assert.deepEqual(server.paths, ['/moved']);
    } finally {
      redirected.close();
      await server.close();
    }
  });

  test('no answer within the timeout: "timeout: no answer within <ms> ms", once', { timeout: 10_000 }, async () => {
    endpoint.responder = () => ({ hang: true });
    const impatient = client(`${endpoint.baseUrl}hooks/`, { timeoutMs: 150 });
    try {
      const started = Date.now();
      const result = await impatient.post({ path: 'slow', body: 'x', sched: SCHED, attempt: 1 });
      const took = Date.now() - started;
      assert.deepEqual(result, { status: null, error: 'timeout: no answer within 150 ms' });
      assert.ok(took >= 140, `gave up after ${took} ms, before the timeout`);
      assert.equal(endpoint.received.length, 1);
    } finally {
      impatient.close();
    }
  });

  test('a refused connection is a failure with the network error', async () => {
    const nobody = client(`http://127.0.0.1:${await freePort()}/`);
    try {
      const result = await nobody.post({ path: 'x', body: 'x', sched: SCHED, attempt: 1 });
      assert.equal(result.status, null);
      assert.match(result.error ?? '', /^ECONNREFUSED: /);
    } finally {
      nobody.close();
    }
  });

  test('a path that would leave the base URL is refused without a request', async () => {
    const result = await callbacks.post({ path: '../admin', body: 'x', sched: SCHED, attempt: 1 });
    assert.equal(result.status, null);
    assert.match(result.error ?? '', /^refusing callback/);
    assert.equal(endpoint.received.length, 0);
  });

  test('an endless response body answers at once; its socket is closed soon after, nothing kept in memory', async () => {
    const gc = exposeGc();
    const chunk = Buffer.alloc(1 << 20, 'z');
    let sent = 0;
    let closedAfter = NaN;
    const started = Date.now();
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.on('close', () => (closedAfter = Date.now() - started));
      const pump = () => {
        while (!res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    const patient = client(server.baseUrl, { timeoutMs: 60_000 });
    try {
      gc();
      const baseline = memory();
      assert.deepEqual(await patient.post({ path: 'endless', body: 'x', sched: SCHED, attempt: 1 }), { status: 200, error: null });
      await eventually(
        async () => closedAfter,
        (ms) => !Number.isNaN(ms),
        'the socket to be closed',
        5_000,
      );
      assert.ok(closedAfter < 2_000, `closed after ${closedAfter} ms, not at the 60 s timeout`);
      gc();
      const grown = memory() - baseline;
      assert.ok(grown < 64 << 20, `memory grew by ${grown >> 20} MB while ${sent >> 20} MB of body went by`);
    } finally {
      patient.close();
      await server.close();
    }
  });

  test('a short body is drained and its socket reused; a long one (by Content-Length) closes the socket', async () => {
    const sockets: number[] = [];
    const server = await listen((req, res) => {
      sockets.push(req.socket.remotePort ?? 0);
      if (req.url === '/long') {
        res.writeHead(200, { 'content-length': String(1 << 20) });
        res.end(Buffer.alloc(1 << 20));
      } else res.end('ok');
    });
    const reused = client(server.baseUrl, { timeoutMs: 2_000 });
    try {
      for (const path of ['short', 'short', 'long', 'short']) {
        assert.deepEqual(await reused.post({ path, body: 'x', sched: SCHED, attempt: 1 }), { status: 200, error: null });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(sockets[1], sockets[0], 'the second callback reuses the first socket');
      assert.equal(sockets[2], sockets[1], 'the long answer came on the same socket');
      assert.notEqual(sockets[3], sockets[2], 'after a long body the socket was closed, not drained');
    } finally {
      reused.close();
      await server.close();
    }
  });
});

/** A one-off server on 127.0.0.1 recording the paths it was asked for. */
async function listen(handler: http.RequestListener): Promise<{ baseUrl: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    paths,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Everything a buffered body could occupy: the JS heap and Buffers outside it. */
function memory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** global.gc without --expose-gc on the command line (the test runner's command is fixed). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
