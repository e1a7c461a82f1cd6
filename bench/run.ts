/**
 * `npm run bench` (full) / `npm run bench -- --quick` (CI-sized): runs the scenarios of
 * bench/scenarios/ one after another, each measured side by side with its baseline in this same
 * run, prints one markdown table and writes bench/results/<mode>-<timestamp>.json.
 *
 * Speed never fails the run: only an error does (exit code 1), e.g. a server that does not start,
 * a lost callback, or an HTTP error under load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs, USAGE } from './lib/args.js';
import { killAllChildren } from './lib/child.js';
import { serverVersion } from './lib/mysql.js';
import { loadRecordedBaseline, resultsTable, saveRecordedBaseline, writeResults, type RunResults, type ScenarioResult } from './lib/results.js';
import { prepareRuntime } from './lib/runtime.js';
import type { Scenario } from './lib/scenario.js';
import { apiReads } from './scenarios/api-reads.js';
import { apiWrites } from './scenarios/api-writes.js';
import { boot, boot10m, bootSqlite } from './scenarios/boot.js';
import { burst } from './scenarios/burst.js';
import { clusterBoot } from './scenarios/cluster-boot.js';
import { clusterFire } from './scenarios/cluster-fire.js';
import { clusterForwarding } from './scenarios/cluster-forwarding.js';
import { clusterRebalance } from './scenarios/cluster-rebalance.js';
import { precision, precision10m, precision1m } from './scenarios/precision.js';
import { soak } from './scenarios/soak.js';
import { wheel } from './scenarios/wheel.js';

// The 10 M scenarios come last in a full run: each fills (and drops) a 10 M-row table.
const SCENARIOS: Scenario[] = [
  wheel,
  boot,
  bootSqlite,
  precision,
  precision1m,
  burst,
  apiWrites,
  apiReads,
  soak,
  clusterFire,
  clusterForwarding,
  clusterBoot,
  clusterRebalance,
  boot10m,
  precision10m,
];

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const unknown = (args.only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) {
    process.stderr.write(`unknown scenario ${unknown.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const started = Date.now();
  const runtime = await prepareRuntime(args.server, log);
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    mariadb: await serverVersion().catch((error: Error) => `unreachable: ${error.message}`),
    server: runtime.note,
    // The machine is shared: a high load explains a noisy run (ratios are same-run, absolute figures are not).
    loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
  };
  log(`${args.mode} run on ${JSON.stringify(machine)}`);
  const results: RunResults = { mode: args.mode, startedAt: new Date(started).toISOString(), seconds: 0, machine, scenarios: [] };
  const root = mkdtempSync(join(tmpdir(), 'dalga-bench-'));
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log('interrupted: stopping child processes');
    killAllChildren();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const selected = SCENARIOS.filter((s) => !args.only || args.only.includes(s.name));
  const skipped = args.mode === 'quick' ? selected.filter((s) => s.fullOnly) : [];
  if (skipped.length) log(`--quick: skipping the full-mode-only ${skipped.map((s) => s.name).join(', ')}`);
  for (const scenario of selected.filter((s) => !skipped.includes(s))) {
    if (interrupted) break;
    const dir = mkdtempSync(join(root, `${scenario.name}-`));
    const undo: (() => Promise<unknown> | unknown)[] = [];
    const result: ScenarioResult = { name: scenario.name, title: scenario.title, seconds: 0, rows: [], details: {}, notes: [], error: null };
    const t0 = Date.now();
    log(`── ${scenario.title} (${scenario.name})`);
    try {
      const output = await scenario.run({
        mode: args.mode,
        runtime,
        profile: args.profile,
        dir,
        log: (line) => log(`  ${scenario.name}: ${line}`),
        defer: (step) => undo.push(step),
      });
      result.rows = output.rows;
      result.details = output.details;
      result.notes = output.notes ?? [];
      if (output.errors?.length) {
        result.error = output.errors.join('\n');
        log(`  ${scenario.name} FAILED: ${result.error}`);
      }
    } catch (error) {
      result.error = (error as Error).stack ?? String(error);
      log(`  ${scenario.name} FAILED: ${result.error}`);
    } finally {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch (error) {
          log(`  cleanup of ${scenario.name} failed: ${(error as Error).message}`);
          result.error ??= `cleanup failed: ${(error as Error).message}`;
        }
      }
    }
    result.seconds = Math.round((Date.now() - t0) / 100) / 10;
    log(`  ${scenario.name}: ${result.seconds} s`);
    for (const note of result.notes) log(`  ${note.replace(/\n/g, '\n  ')}`);
    results.scenarios.push(result);
  }
  if (results.scenarios.some((s) => s.error)) log(`kept the servers' logs and configs in ${root}`);
  else rmSync(root, { recursive: true, force: true });
  results.seconds = Math.round((Date.now() - started) / 100) / 10;

  const recorded = loadRecordedBaseline();
  const file = writeResults(results);
  const out: string[] = [];
  out.push(`## Dalga benchmarks: ${args.mode} run, ${results.startedAt}, ${results.seconds} s`);
  out.push('');
  out.push(
    `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}, MariaDB ${machine.mariadb}; server: ${machine.server}; load average at start ${machine.loadAverage.join(' / ')}.`,
  );
  out.push('Ratio = Dalga / baseline, both measured in this run. "full-run ratio" is the one recorded in bench/results/baseline.json.');
  out.push('');
  out.push(resultsTable(results, recorded));
  const notes = results.scenarios.flatMap((s) => s.notes);
  if (notes.length) out.push('', '```', ...notes, '```');
  out.push('', `Results: ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.saveBaseline) {
    if (args.mode !== 'full' || args.only) log('--save-baseline: only a complete full run may record the baseline; not saved');
    else log(`recorded ${Object.keys(saveRecordedBaseline(results).ratios).length} ratios in bench/results/baseline.json`);
  }
  const failed = results.scenarios.filter((s) => s.error);
  if (failed.length || interrupted) {
    log(`${failed.length} scenario(s) failed: ${failed.map((s) => s.name).join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    killAllChildren();
    process.exit(1);
  },
);
