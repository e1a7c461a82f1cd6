import { readFileSync } from 'node:fs';
import { parse as parseIni } from 'ini';
import { buildConfig, ConfigError, type Config, type RawConfig } from './config.js';

/** Section headers may carry a trailing comment (`[mysql] ; selects MySQL`), which `ini` does not accept. */
const HEADER_WITH_COMMENT = /^(\s*\[[^\]]+\])\s*[;#].*$/gm;

/** A line that is neither blank, a comment, a [section] nor key = value. */
function checkLines(source: string, origin: string): void {
  source.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || /^[;#]/.test(trimmed) || /^\[[^\]]+\]\s*([;#].*)?$/.test(trimmed) || trimmed.includes('=')) return;
    throw new ConfigError(`${origin}:${index + 1}: expected "key = value" or [section], got "${trimmed}"`);
  });
}

export function parseConfigText(source: string, origin: string): RawConfig {
  checkLines(source, origin);
  const parsed = parseIni(source.replace(HEADER_WITH_COMMENT, '$1')) as Record<string, unknown>;
  const raw: RawConfig = {};
  for (const [section, keys] of Object.entries(parsed)) {
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
      throw new ConfigError(`${origin}: "${section}" is outside any [section]`);
    }
    raw[section] = {};
    for (const [key, value] of Object.entries(keys as Record<string, unknown>)) {
      // ini turns "true"/"false" into booleans; the config's own parsers read text.
      if (typeof value !== 'string' && typeof value !== 'boolean') {
        throw new ConfigError(`${origin}: [${section}] ${key}: expected "key = value"`);
      }
      raw[section][key] = String(value);
    }
  }
  return raw;
}

/**
 * DALGA_<SECTION>_<KEY>=value overrides the file. Keys may contain underscores
 * (DALGA_JOBS_RETRY_INTERVAL), the section never does.
 */
export function environmentOverrides(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^DALGA_([A-Z0-9]+)_([A-Z0-9_]+)$/.exec(name);
    if (!match || value === undefined) continue;
    const section = match[1].toLowerCase();
    (raw[section] ??= {})[match[2].toLowerCase()] = value;
  }
  return raw;
}

function merge(base: RawConfig, override: RawConfig): RawConfig {
  const merged: RawConfig = {};
  for (const section of new Set([...Object.keys(base), ...Object.keys(override)])) {
    merged[section] = { ...base[section], ...override[section] };
  }
  return merged;
}

/** The file (if any), then the environment on top, validated. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let fromFile: RawConfig = {};
  if (file !== undefined) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    fromFile = parseConfigText(source, file);
  }
  return buildConfig(merge(fromFile, environmentOverrides(env)));
}
