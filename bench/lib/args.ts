import { parseArgs } from 'node:util';
import type { Mode } from './scenario.js';
import type { RuntimeKind } from './runtime.js';

export interface BenchArgs {
  mode: Mode;
  only: string[] | null;
  server: 'auto' | RuntimeKind;
  profile: boolean;
  saveBaseline: boolean;
}

export const USAGE = `usage: npm run bench [-- --quick] [--only=wheel,boot,...] [--server=auto|dist|tsx] [--profile] [--save-baseline]

  --quick          CI-sized run (under 5 minutes); default is the full run
  --only=a,b       run only these scenarios (wheel, boot, boot-sqlite, precision, precision-1m, burst,
                   api-writes, api-reads, soak, cluster-fire, cluster-forwarding, cluster-boot,
                   cluster-rebalance; full mode only: boot-10m, precision-10m)
  --server=KIND    how the server and workers run: auto (build with tsc, use dist/), dist (as built), tsx
  --profile        run the server under --cpu-prof and print its hottest functions per scenario
  --save-baseline  write the ratios of this (full) run to bench/results/baseline.json`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      server: { type: 'string', default: 'auto' },
      profile: { type: 'boolean', default: false },
      'save-baseline': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!['auto', 'dist', 'tsx'].includes(values.server as string)) throw new Error(`--server: expected auto, dist or tsx\n${USAGE}`);
  return {
    mode: values.quick ? 'quick' : 'full',
    only: values.only
      ? values.only
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : null,
    server: values.server as BenchArgs['server'],
    profile: values.profile as boolean,
    saveBaseline: values['save-baseline'] as boolean,
  };
}
