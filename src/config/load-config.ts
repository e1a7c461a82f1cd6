import { readFileSync } from 'node:fs';
import { parse as parseIni } from 'ini';
import { buildConfig, ConfigError, sectionKeys, type Config, type RawConfig } from './config.js';

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

/** What the environment says: overrides for known sections, and the DALGA_* names that are not Dalga's. */
export interface EnvironmentSettings {
  overrides: RawConfig;
  /** DALGA_* variables that name no section of the configuration, sorted. */
  ignored: string[];
}

/**
 * DALGA_<SECTION>_<KEY>=value overrides the file. Keys may contain underscores
 * (DALGA_JOBS_RETRY_INTERVAL), the section never does.
 *
 * A DALGA_* variable whose first part is not a section name is not Dalga's and is ignored:
 * Kubernetes gives a pod DALGA_SERVICE_HOST, DALGA_PORT, DALGA_PORT_34006_TCP_ADDR, ... for a
 * Service named "dalga", and those must not stop the server. A known section with a key it does
 * not have (DALGA_LISTEN_PROT) is a typo and stops it, naming the variable.
 * @throws ConfigError for a known section with an unknown or missing key.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): EnvironmentSettings {
  const overrides: RawConfig = {};
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('DALGA_') || value === undefined) continue;
    const rest = name.slice('DALGA_'.length);
    const cut = rest.indexOf('_');
    const section = (cut === -1 ? rest : rest.slice(0, cut)).toLowerCase();
    const known = sectionKeys(section);
    if (known === undefined) {
      ignored.push(name);
      continue;
    }
    const key = cut === -1 ? '' : rest.slice(cut + 1).toLowerCase();
    if (!known.includes(key)) {
      const what = key === '' ? 'names no key' : `[${section}] ${key}: unknown key`;
      throw new ConfigError(`environment variable ${name}: ${what} (known: ${known.join(', ')})`);
    }
    (overrides[section] ??= {})[key] = value;
  }
  return { overrides, ignored: ignored.sort() };
}

/** The overrides of {@link readEnvironment}, for callers that do not report what was ignored. */
export function environmentOverrides(env: NodeJS.ProcessEnv): RawConfig {
  return readEnvironment(env).overrides;
}

function merge(base: RawConfig, override: RawConfig): RawConfig {
  const merged: RawConfig = {};
  for (const section of new Set([...Object.keys(base), ...Object.keys(override)])) {
    merged[section] = { ...base[section], ...override[section] };
  }
  return merged;
}

/** A validated configuration, and the DALGA_* environment variables it did not use because they name no section. */
export interface LoadedConfig {
  config: Config;
  /** For the caller to log (one debug line): Kubernetes service variables and the like. */
  ignoredEnvironment: string[];
}

/** The file (if any), then the environment on top, validated; with the DALGA_* variables that were ignored. */
export function loadConfigWithIgnored(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
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
  const environment = readEnvironment(env);
  return { config: buildConfig(merge(fromFile, environment.overrides)), ignoredEnvironment: environment.ignored };
}

/** The file (if any), then the environment on top, validated. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigWithIgnored(file, env).config;
}
