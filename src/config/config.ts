/**
 * The server's configuration: typed, validated, with every default written down once.
 *
 * Input is a two-level map (section -> key -> text), as read from the INI file and the
 * DALGA_<SECTION>_<KEY> environment variables. Unknown sections or keys and bad values are
 * rejected with a ConfigError naming `[section] key`, so that a typo stops the server at start
 * instead of being silently ignored. (DALGA_* variables that name no section never get here:
 * load-config.ts sets them aside as not Dalga's, such as Kubernetes' DALGA_SERVICE_HOST.)
 */

import { BOOLEAN_WORDS, parseBooleanText } from '../boolean-text.js';
import { DEFAULT_SHARDS } from '../cluster/shard-map.js';

export type RawConfig = Record<string, Record<string, string>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One MySQL server to connect to. */
export interface MysqlAddress {
  host: string;
  port: number;
}

export interface MysqlSettings {
  kind: 'mysql';
  /** The first of `hosts` (what a single-server setup reads). */
  host: string;
  port: number;
  /** Every server of `[mysql] host`, in order, each with its port (`[mysql] port` where none is given). */
  hosts: MysqlAddress[];
  db: string;
  table: string;
  user: string;
  password: string;
}

export interface SqliteSettings {
  kind: 'sqlite';
  /** Database file, relative to the working directory. */
  file: string;
  table: string;
}

export type DatabaseSettings = MysqlSettings | SqliteSettings;

export interface ListenSettings {
  host: string;
  port: number;
  /** When set, every route but /healthz needs `Authorization: Bearer <token>`. */
  token: string;
  /** Serve /debug and /debug/wheel. */
  debug: boolean;
}

export interface EndpointSettings {
  /** Callbacks go to baseurl + job path; always ends with "/". */
  baseUrl: string;
  timeoutMs: number;
  /** When set, callbacks carry Dalga-Signature (HMAC-SHA256 of "<t>.<body>"). */
  secret: string;
}

export interface JobSettings {
  retryIntervalMs: number;
  retryMultiplier: number;
  retryMaxIntervalMs: number;
  /** 0 = retry forever. Otherwise a job failing for longer than this (from its first failed attempt) is disabled. */
  retryStopAfterMs: number;
  randomizationFactor: number;
  fixedIntervals: boolean;
  maxRunning: number;
  /** Runs kept per job in the run history (`<table>_runs`); 0 keeps none. */
  history: number;
}

export interface ClusterSettings {
  /** The shard count a new table gets (`-create-table`); an existing table keeps its own. */
  shards: number;
  /** host:port the other servers of the cluster forward requests to; '' = the listen address. */
  advertise: string;
}

export interface Config {
  database: DatabaseSettings;
  cluster: ClusterSettings;
  listen: ListenSettings;
  endpoint: EndpointSettings;
  jobs: JobSettings;
}

type Parser<T> = (text: string) => T;

interface KeySpec<T> {
  default: T;
  parse: Parser<T>;
}

const text: Parser<string> = (value) => value;

function nonEmpty(value: string): string {
  if (value === '') throw new Error('must not be empty');
  return value;
}

function integer(min: number, max: number): Parser<number> {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw new Error(`"${value}" is not a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
    return n;
  };
}

function decimal(min: number, max: number): Parser<number> {
  return (value) => {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n)) throw new Error(`"${value}" is not a number`);
    if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
    return n;
  };
}

/** Seconds (fractions allowed) to milliseconds. */
function seconds(min: number, max: number): Parser<number> {
  const parse = decimal(min, max);
  return (value) => Math.round(parse(value) * 1000);
}

const boolean: Parser<boolean> = (value) => {
  const parsed = parseBooleanText(value);
  if (parsed === undefined) throw new Error(`"${value}" is not a boolean (${BOOLEAN_WORDS})`);
  return parsed;
};

/** A SQL identifier we can safely put in DDL and in lock names. */
function tableName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value)) {
    throw new Error(`"${value}" is not a plain table name (letters, digits, underscore)`);
  }
  return value;
}

function httpBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http or https URL');
  if (url.search || url.hash) throw new Error('must not have a query or fragment');
  if (url.username || url.password) throw new Error('must not contain credentials');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/** A `[mysql] host` entry before `[mysql] port` fills in a missing port. */
interface HostEntry {
  host: string;
  port: number | undefined;
}

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** Two or more colons and nothing but hex digits and dots: an IPv6 address, whose colons are not a port's. */
const BARE_IPV6 = /^[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$/;

/** One entry of the list: `host`, `host:port`, `[ipv6]`, `[ipv6]:port` or a bare IPv6 address (no port then). */
function hostEntry(entry: string): HostEntry {
  let host = entry;
  let portText: string | undefined;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (!BARE_IPV6.test(entry)) {
    const parts = entry.split(':');
    if (parts.length > 2 || !HOST_NAME.test(parts[0])) throw new Error(`"${entry}" is not a host or host:port`);
    [host, portText] = parts;
  }
  if (portText === undefined) return { host, port: undefined };
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new Error(`"${entry}": the port must be a whole number in 1..65535`);
  }
  return { host, port: Number(portText) };
}

/** `host[:port], host[:port], ...`: the servers to try in order (a Galera cluster's nodes, say). */
function hostList(value: string): HostEntry[] {
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new Error(`"${value}" has an empty entry`);
  return entries.map(hostEntry);
}

/** `host:port` (an IPv6 host in brackets), or '' for the default. */
function hostPort(value: string): string {
  if (value === '') return value;
  const { port } = hostEntry(value);
  if (port === undefined) throw new Error(`"${value}" is not host:port`);
  return value;
}

const SECTIONS = {
  mysql: {
    host: { default: [{ host: '127.0.0.1', port: undefined }] as HostEntry[], parse: hostList },
    port: { default: 3306, parse: integer(1, 65535) },
    db: { default: 'test', parse: nonEmpty },
    table: { default: 'dalga', parse: tableName },
    user: { default: 'root', parse: nonEmpty },
    password: { default: '', parse: text },
  },
  sqlite: {
    file: { default: 'dalga.sqlite', parse: nonEmpty },
    table: { default: 'dalga', parse: tableName },
  },
  listen: {
    host: { default: '127.0.0.1', parse: nonEmpty },
    port: { default: 34006, parse: integer(0, 65535) },
    token: { default: '', parse: text },
    debug: { default: true, parse: boolean },
  },
  endpoint: {
    baseurl: { default: 'http://127.0.0.1:5000/', parse: httpBaseUrl },
    timeout: { default: 10_000, parse: seconds(0.001, 3600) },
    secret: { default: '', parse: text },
  },
  cluster: {
    shards: { default: DEFAULT_SHARDS, parse: integer(1, 65_535) },
    advertise: { default: '', parse: hostPort },
  },
  jobs: {
    retry_interval: { default: 1_000, parse: seconds(0.001, 365 * 86400) },
    retry_multiplier: { default: 2, parse: decimal(1, 100) },
    retry_max_interval: { default: 3_600_000, parse: seconds(0.001, 365 * 86400) },
    retry_stop_after: { default: 0, parse: seconds(0, 100 * 365 * 86400) },
    randomization_factor: { default: 0, parse: decimal(0, 1) },
    fixed_intervals: { default: true, parse: boolean },
    max_running: { default: 100, parse: integer(1, 100_000) },
    history: { default: 20, parse: integer(0, 10_000) },
  },
} satisfies Record<string, Record<string, KeySpec<unknown>>>;

type Sections = typeof SECTIONS;
type SectionValues<S extends keyof Sections> = {
  [K in keyof Sections[S]]: Sections[S][K] extends KeySpec<infer T> ? T : never;
};

export const CONFIG_SECTIONS = Object.keys(SECTIONS) as (keyof Sections)[];

/** The keys of a known section, or undefined for any other name (own keys only: "constructor" is no section). */
export function sectionKeys(section: string): string[] | undefined {
  return Object.hasOwn(SECTIONS, section) ? Object.keys(SECTIONS[section as keyof Sections]) : undefined;
}

function readSection<S extends keyof Sections>(raw: RawConfig, section: S): SectionValues<S> {
  const specs = SECTIONS[section] as Record<string, KeySpec<unknown>>;
  const given = raw[section] ?? {};
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const value = given[key];
    if (value === undefined) {
      values[key] = spec.default;
      continue;
    }
    try {
      values[key] = spec.parse(value.trim());
    } catch (error) {
      throw new ConfigError(`[${section}] ${key}: ${(error as Error).message}`);
    }
  }
  return values as SectionValues<S>;
}

function rejectUnknown(raw: RawConfig): void {
  for (const [section, keys] of Object.entries(raw)) {
    if (!Object.hasOwn(SECTIONS, section)) {
      throw new ConfigError(`unknown section [${section}] (known: ${CONFIG_SECTIONS.join(', ')})`);
    }
    const known = SECTIONS[section as keyof Sections];
    for (const key of Object.keys(keys)) {
      if (!Object.hasOwn(known, key)) {
        throw new ConfigError(`[${section}] ${key}: unknown key (known: ${Object.keys(known).join(', ')})`);
      }
    }
  }
}

function mysqlSettings(values: SectionValues<'mysql'>): MysqlSettings {
  const { host, port, ...rest } = values;
  const hosts = host.map((entry) => ({ host: entry.host, port: entry.port ?? port }));
  const seen = new Set<string>();
  for (const address of hosts) {
    const key = `${address.host}:${address.port}`;
    if (seen.has(key)) throw new ConfigError(`[mysql] host: ${key} is listed twice (an entry without a port uses [mysql] port = ${port})`);
    seen.add(key);
  }
  return { kind: 'mysql', host: hosts[0].host, port: hosts[0].port, hosts, ...rest };
}

/** Validates raw sections into a Config. The presence of [mysql] selects MySQL; otherwise SQLite. */
export function buildConfig(raw: RawConfig): Config {
  rejectUnknown(raw);
  if (raw.mysql && raw.sqlite) throw new ConfigError('[mysql] and [sqlite] are exclusive: keep one');
  const listen = readSection(raw, 'listen');
  const endpoint = readSection(raw, 'endpoint');
  const jobs = readSection(raw, 'jobs');
  const cluster = readSection(raw, 'cluster');
  const database: DatabaseSettings = raw.mysql ? mysqlSettings(readSection(raw, 'mysql')) : { kind: 'sqlite', ...readSection(raw, 'sqlite') };
  return {
    database,
    cluster,
    listen,
    endpoint: { baseUrl: endpoint.baseurl, timeoutMs: endpoint.timeout, secret: endpoint.secret },
    jobs: {
      retryIntervalMs: jobs.retry_interval,
      retryMultiplier: jobs.retry_multiplier,
      retryMaxIntervalMs: jobs.retry_max_interval,
      retryStopAfterMs: jobs.retry_stop_after,
      randomizationFactor: jobs.randomization_factor,
      fixedIntervals: jobs.fixed_intervals,
      maxRunning: jobs.max_running,
      history: jobs.history,
    },
  };
}
