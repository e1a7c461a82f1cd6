import net from 'node:net';

/** How a raw exchange ended. */
export type RawEnding =
  /** The server closed the connection after its answer (or without one). */
  | 'closed'
  /** The connection was reset or a write failed (EPIPE, ECONNRESET); an answer may still have come first. */
  | 'reset'
  /** Nothing more came before the deadline: the client gave up. */
  | 'timeout'
  /** The connection could not be made. */
  | 'refused';

export interface RawResponse {
  /** The status of the first response line, or null when none arrived. */
  status: number | null;
  /** Response header names in lower case (the last value of a repeated one). */
  headers: Record<string, string>;
  /** Everything after the header block, as received (not de-chunked). */
  body: Buffer;
  ending: RawEnding;
  /** The socket error, if any. */
  error: string | null;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** Splits a received byte stream into status, headers and body, past any 1xx interim answers (100 Continue). */
function parseResponse(received: Buffer): Pick<RawResponse, 'status' | 'headers' | 'body'> {
  let rest = received;
  let headerEnd = rest.indexOf('\r\n\r\n');
  while (headerEnd !== -1 && /^HTTP\/1\.[01] 1\d\d/.test(rest.subarray(0, 12).toString('latin1'))) {
    rest = rest.subarray(headerEnd + 4);
    headerEnd = rest.indexOf('\r\n\r\n');
  }
  const head = (headerEnd === -1 ? rest : rest.subarray(0, headerEnd)).toString('latin1');
  const match = STATUS_LINE.exec(head);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: match ? Number(match[1]) : null,
    headers,
    body: headerEnd === -1 ? Buffer.alloc(0) : rest.subarray(headerEnd + 4),
  };
}

/**
 * Sends `request` byte for byte over a fresh TCP connection and reads until the server closes it,
 * so that malformed request lines, invalid percent-encodings, raw non-ASCII and NUL bytes reach
 * the server exactly as written (an HTTP client library would refuse or normalise them). The
 * request should say `Connection: close`; the answer is whatever arrived before the close.
 */
export function rawHttp(port: number, request: Buffer, timeoutMs: number, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    let ending: RawEnding = 'closed';
    let connected = false;
    const socket = net.connect({ port, host });
    const timer = setTimeout(() => {
      ending = 'timeout';
      socket.destroy();
    }, timeoutMs);
    socket.on('connect', () => {
      connected = true;
      socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      if (ending !== 'timeout') ending = connected ? 'reset' : 'refused';
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ...parseResponse(Buffer.concat(chunks)), ending, error });
    });
  });
}

/** Parses a raw response body as a JSON object, or null. */
export function rawJson(response: RawResponse): Record<string, unknown> | null {
  if (!/^application\/json/.test(response.headers['content-type'] ?? '')) return null;
  try {
    const value: unknown = JSON.parse(response.body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
