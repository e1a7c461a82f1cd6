/**
 * Preloaded into a server under test (`node --import`): steps its wall clock. `Date.now()` and
 * `new Date()` read the real time plus the offset in ms written in the file named by
 * TEST_CLOCK_OFFSET_FILE, read again on SIGUSR2, as NTP or a resumed VM steps a clock. The
 * monotonic clock (performance.now, the timers) is left alone, as on a real machine.
 */
import { readFileSync } from 'node:fs';

const file = process.env.TEST_CLOCK_OFFSET_FILE;
if (file) {
  const RealDate = Date;
  let offset = 0;
  const read = () => {
    offset = Number(readFileSync(file, 'utf8').trim()) || 0;
  };
  read();
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args) => (args.length === 0 ? new target(target.now() + offset) : new target(...args)),
    get: (target, property) => (property === 'now' ? () => target.now() + offset : Reflect.get(target, property)),
  });
  process.on('SIGUSR2', read);
}
