import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ratio as formatRatio } from './format.js';
import { ROOT } from './runtime.js';
import type { Mode, Row } from './scenario.js';
import { markdownTable } from './table.js';

export const RESULTS_DIR = join(ROOT, 'bench/results');
export const BASELINE_FILE = join(RESULTS_DIR, 'baseline.json');

export interface ScenarioResult {
  name: string;
  title: string;
  seconds: number;
  rows: Row[];
  details: Record<string, unknown>;
  notes: string[];
  error: string | null;
}

export interface RunResults {
  mode: Mode;
  startedAt: string;
  seconds: number;
  machine: Record<string, unknown>;
  scenarios: ScenarioResult[];
}

/** Ratios recorded by a full run: what every later run prints next to its own. */
export interface RecordedBaseline {
  recordedAt: string;
  mode: Mode;
  machine: Record<string, unknown>;
  ratios: Record<string, number>;
}

export function loadRecordedBaseline(): RecordedBaseline | null {
  if (!existsSync(BASELINE_FILE)) return null;
  try {
    return JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as RecordedBaseline;
  } catch {
    return null;
  }
}

export function saveRecordedBaseline(results: RunResults): RecordedBaseline {
  const ratios: Record<string, number> = {};
  for (const scenario of results.scenarios) {
    if (scenario.error) continue;
    for (const row of scenario.rows) if (row.ratio !== null && Number.isFinite(row.ratio)) ratios[row.id] = Math.round(row.ratio * 1000) / 1000;
  }
  const recorded: RecordedBaseline = { recordedAt: results.startedAt, mode: results.mode, machine: results.machine, ratios };
  writeFileSync(BASELINE_FILE, `${JSON.stringify(recorded, null, 2)}\n`);
  return recorded;
}

/** results/<mode>-<timestamp>.json and results/latest-<mode>.json; returns the first path. */
export function writeResults(results: RunResults): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `${results.mode}-${stamp}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(RESULTS_DIR, `latest-${results.mode}.json`), text);
  return file;
}

function met(row: Row): string {
  if (row.met === null) return '—';
  return row.met ? 'yes' : '**no**';
}

/** The table: one row per figure, failed scenarios as one row with their error. */
export function resultsTable(results: RunResults, recorded: RecordedBaseline | null): string {
  const headers = [
    'figure',
    'Dalga',
    'baseline',
    'ratio',
    `full-run ratio${recorded ? ` (${recorded.recordedAt.slice(0, 10)})` : ''}`,
    'target',
    'met?',
  ];
  const rows: string[][] = [];
  for (const scenario of results.scenarios) {
    for (const row of scenario.rows) {
      const before = recorded?.ratios[row.id];
      rows.push([
        row.figure,
        row.dalga,
        row.baseline,
        formatRatio(row.ratio),
        before === undefined ? '—' : formatRatio(before),
        row.target,
        met(row),
      ]);
    }
    if (scenario.error) rows.push([`${scenario.title}: ERROR`, scenario.error.split('\n')[0].slice(0, 160), '', '', '', '', '**error**']);
  }
  return markdownTable(headers, rows);
}
