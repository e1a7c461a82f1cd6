import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  /** Debug level (the -debug flag); info otherwise. */
  debug: boolean;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
  /** Human-readable lines instead of JSON. Default: when stdout is a terminal (and no destination is given). */
  pretty?: boolean;
}

/**
 * Everything that may carry a secret, at the depths the code logs objects: a config password
 * logged as `password`, `{ mysql: { password } }` or `{ config: { database: { password } } }`.
 * Secrets never reach a log call by design; this list is the net under that rule.
 */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
];

/**
 * pino-pretty is loaded only for a terminal: a server under systemd or in a container never pays
 * its start-up cost (a restart is a window in which no job fires).
 */
function prettyStream(options: PrettyOptions): PrettyStream {
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as (options: PrettyOptions) => PrettyStream;
  return pretty(options);
}

/**
 * JSON lines (level, time, message, and `job: {path, body}` where there is one) for log
 * collectors; when a person watches the terminal, the same records pretty-printed.
 *
 * pino-pretty runs as a stream in this process, not as a pino transport: a transport is a worker
 * thread that may still hold the last lines when the process exits (at a fatal start error, which
 * is exactly when they matter), and it would need its own module resolution at run time.
 */
export function createLogger(options: LoggerOptions): Logger {
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const destination = options.destination ?? process.stdout;
  const stream = usePretty
    ? prettyStream({ destination, sync: true, colorize: destination === process.stdout, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : destination;
  return pino(
    {
      level: options.debug ? 'debug' : 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    stream,
  );
}
