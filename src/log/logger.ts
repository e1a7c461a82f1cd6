import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout: level, time, message, and the job key where there is one. Secrets (the
 * database password) never reach a log call; the redact list is the net under that rule.
 */
export function createLogger(options: { debug: boolean; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.debug ? 'debug' : 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret'], censor: '[redacted]' },
    },
    options.destination ?? process.stdout,
  );
}
