// Preloaded into a server under test (NODE_OPTIONS=--import=<this file>): SIGUSR2 runs a full
// garbage collection, so a test can read memory that is really retained rather than a point on
// V8's saw-tooth. Plain JavaScript: it loads before the TypeScript loader does.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
process.on('SIGUSR2', () => gc());
