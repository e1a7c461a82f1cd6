import type { Runtime } from './runtime.js';

export type Mode = 'quick' | 'full';

/** One line of the results table. */
export interface Row {
  /** Stable id: the key of its ratio in bench/results/baseline.json. */
  id: string;
  figure: string;
  dalga: string;
  baseline: string;
  /** Dalga / baseline in the figure's own unit (null when there is no same-run baseline). */
  ratio: number | null;
  target: string;
  /** null: informational, no target. */
  met: boolean | null;
}

export interface ScenarioOutput {
  rows: Row[];
  /** Raw numbers for the JSON results. */
  details: Record<string, unknown>;
  /** Extra text printed after the table (profiles). */
  notes?: string[];
  /** Errors found while measuring (lost callbacks, HTTP errors): the rows still print, the run exits 1. */
  errors?: string[];
}

export interface ScenarioContext {
  mode: Mode;
  runtime: Runtime;
  /** --profile: run the server under --cpu-prof and summarize where its time went. */
  profile: boolean;
  /** A fresh directory for this scenario's files (configs, logs, profiles). */
  dir: string;
  log: (line: string) => void;
  /** Registers an undo step (drop a table, stop a process); run in reverse order when the scenario ends. */
  defer: (step: () => Promise<unknown> | unknown) => void;
}

export interface Scenario {
  name: string;
  title: string;
  /** Too big for CI: skipped by --quick (even when named in --only). */
  fullOnly?: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioOutput>;
}

/** Size by mode. */
export function bySize<T>(mode: Mode, sizes: { quick: T; full: T }): T {
  return sizes[mode];
}
