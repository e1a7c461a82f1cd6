import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig, ConfigError } from '../../src/config/config.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentOverrides, loadConfig, loadConfigWithIgnored, parseConfigText } from '../../src/config/load-config.js';

const SEED_STYLE = `
[mysql]            ; presence of this section selects MySQL
host = 127.0.0.1
port = 3306
db = test
table = dalga
user = root
password =

[listen]
host = 127.0.0.1
port = 34006

[endpoint]
baseurl = http://127.0.0.1:5000/
timeout = 10        ; seconds

[jobs]
retry_interval = 1
retry_multiplier = 2
retry_max_interval = 3600
retry_stop_after = 0      ; 0 = retry forever
randomization_factor = 0
fixed_intervals = true
max_running = 100
`;

describe('config', () => {
  test('no file and no environment: the embedded SQLite default and documented defaults', () => {
    const config = loadConfig(undefined, {});
    assert.deepEqual(config.database, { kind: 'sqlite', file: 'dalga.sqlite', table: 'dalga' });
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 34006, token: '', debug: true });
    assert.deepEqual(config.endpoint, { baseUrl: 'http://127.0.0.1:5000/', timeoutMs: 10_000, secret: '' });
    assert.deepEqual(config.jobs, {
      retryIntervalMs: 1_000,
      retryMultiplier: 2,
      retryMaxIntervalMs: 3_600_000,
      retryStopAfterMs: 0,
      randomizationFactor: 0,
      fixedIntervals: true,
      maxRunning: 100,
      history: 20,
    });
  });

  test('the spec example file (comments after headers and values) selects MySQL', () => {
    const config = buildConfig(parseConfigText(SEED_STYLE, 'dalga.ini'));
    assert.deepEqual(config.database, {
      kind: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      hosts: [{ host: '127.0.0.1', port: 3306 }],
      db: 'test',
      table: 'dalga',
      user: 'root',
      password: '',
    });
    assert.equal(config.endpoint.timeoutMs, 10_000);
  });

  test('environment variables override the file and can select MySQL', () => {
    const env = { DALGA_MYSQL_HOST: 'db.local', DALGA_JOBS_MAX_RUNNING: '7', DALGA_ENDPOINT_BASEURL: 'http://127.0.0.1:9/hooks' };
    const dir = mkdtempSync(join(tmpdir(), 'dalga-config-'));
    const file = join(dir, 'dalga.ini');
    writeFileSync(file, '[jobs]\nmax_running = 3\nretry_interval = 4\n');
    const config = loadConfig(file, env);
    rmSync(dir, { recursive: true });
    assert.equal(config.jobs.retryIntervalMs, 4_000, 'file values stay where the environment says nothing');
    assert.equal(config.database.kind, 'mysql');
    assert.equal(config.database.kind === 'mysql' && config.database.host, 'db.local');
    assert.equal(config.jobs.maxRunning, 7);
    assert.equal(config.endpoint.baseUrl, 'http://127.0.0.1:9/hooks/', 'a base URL always ends with a slash');
  });

  test('[mysql] host takes a list of servers, tried in order; an entry without a port uses [mysql] port', () => {
    const mysql = (section: Record<string, string>) => {
      const { database } = buildConfig({ mysql: section });
      assert.equal(database.kind, 'mysql');
      return database.kind === 'mysql' ? database : undefined;
    };
    const listed = mysql({ host: '10.0.0.1:3307, db-2.local ,10.0.0.3', port: '3310' });
    assert.deepEqual(listed?.hosts, [
      { host: '10.0.0.1', port: 3307 },
      { host: 'db-2.local', port: 3310 },
      { host: '10.0.0.3', port: 3310 },
    ]);
    assert.deepEqual([listed?.host, listed?.port], ['10.0.0.1', 3307], 'host and port are the first server');
    assert.deepEqual(mysql({})?.hosts, [{ host: '127.0.0.1', port: 3306 }], 'the default is one server');
    assert.deepEqual(mysql({ host: '[::1]:3307,::1,[fd00::2]' })?.hosts, [
      { host: '::1', port: 3307 },
      { host: '::1', port: 3306 },
      { host: 'fd00::2', port: 3306 },
    ]);
    assert.deepEqual(loadConfig(undefined, { DALGA_MYSQL_HOST: 'a:1,b:2' }).database, {
      kind: 'mysql',
      host: 'a',
      port: 1,
      hosts: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      db: 'test',
      table: 'dalga',
      user: 'root',
      password: '',
    });
  });

  const bad: [string, string, RegExp][] = [
    ['an empty host list entry', '[mysql]\nhost = a,,b\n', /^\[mysql\] host: "a,,b" has an empty entry$/],
    ['a trailing comma in the host list', '[mysql]\nhost = a:3306,\n', /^\[mysql\] host: "a:3306," has an empty entry$/],
    ['a bad port in the host list', '[mysql]\nhost = a:3306,b:99999\n', /^\[mysql\] host: "b:99999": the port must be a whole number in 1\.\.65535$/],
    ['a port that is no number', '[mysql]\nhost = a:http\n', /^\[mysql\] host: "a:http": the port must be/],
    ['an empty port', '[mysql]\nhost = a:\n', /^\[mysql\] host: "a:": the port must be/],
    ['a host with a space', '[mysql]\nhost = a b:3306\n', /^\[mysql\] host: "a b:3306" is not a host or host:port$/],
    ['a URL as host', '[mysql]\nhost = mysql://a:3306\n', /^\[mysql\] host: "mysql:\/\/a:3306" is not a host or host:port$/],
    [
      'a server listed twice',
      '[mysql]\nhost = a:3306,b,a\nport = 3306\n',
      /^\[mysql\] host: a:3306 is listed twice \(an entry without a port uses \[mysql\] port = 3306\)$/,
    ],
    ['unknown key', '[jobs]\nmax_runing = 3\n', /\[jobs\] max_runing: unknown key/],
    ['unknown section', '[mysq]\nhost = x\n', /unknown section \[mysq\]/],
    ['not a number', '[listen]\nport = http\n', /\[listen\] port: "http" is not a whole number/],
    ['out of range', '[listen]\nport = 70000\n', /\[listen\] port: 70000 is outside/],
    ['bad boolean', '[jobs]\nfixed_intervals = maybe\n', /\[jobs\] fixed_intervals: "maybe" is not a boolean/],
    ['factor above 1', '[jobs]\nrandomization_factor = 1.5\n', /\[jobs\] randomization_factor/],
    ['relative base URL', '[endpoint]\nbaseurl = /hooks\n', /\[endpoint\] baseurl: "\/hooks" is not an absolute URL/],
    ['ftp base URL', '[endpoint]\nbaseurl = ftp://x/\n', /\[endpoint\] baseurl: must be an http or https URL/],
    ['hostile table name', '[sqlite]\ntable = x-y\n', /\[sqlite\] table/],
    ['a prototype name as section', '[constructor]\nx = 1\n', /unknown section \[constructor\]/],
    ['a prototype name as key', '[jobs]\ntoString = 1\n', /\[jobs\] toString: unknown key/],
    ['key outside a section', 'port = 1\n', /outside any \[section\]/],
    ['key without value', '[jobs]\nmax_running\n', /f:2: expected "key = value" or \[section\], got "max_running"/],
  ];
  for (const [name, text, message] of bad) {
    test(`rejects ${name}, naming the key`, () => {
      assert.throws(
        () => buildConfig(parseConfigText(text, 'f')),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  test('an unknown key of a known section in the environment is rejected, naming the variable and the key', () => {
    assert.throws(() => loadConfig(undefined, { DALGA_JOBS_RETRY: '1' }), /\[jobs\] retry: unknown key/);
    assert.throws(
      () => loadConfig(undefined, { DALGA_LISTEN_PROT: '1' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, 'environment variable DALGA_LISTEN_PROT: [listen] prot: unknown key (known: host, port, token, debug)');
        return true;
      },
    );
    assert.throws(
      () => loadConfig(undefined, { DALGA_MYSQL: 'db.local' }),
      /^ConfigError: environment variable DALGA_MYSQL: names no key \(known: host, port/,
    );
    assert.throws(() => loadConfig(undefined, { DALGA_JOBS_: '1' }), /DALGA_JOBS_: names no key/);
  });

  // What Kubernetes injects into every pod for a Service named "dalga" (its docker-links style variables).
  const KUBERNETES = {
    DALGA_SERVICE_HOST: '10.96.0.12',
    DALGA_SERVICE_PORT: '34006',
    DALGA_SERVICE_PORT_HTTP: '34006',
    DALGA_PORT: 'tcp://10.96.0.12:34006',
    DALGA_PORT_34006_TCP: 'tcp://10.96.0.12:34006',
    DALGA_PORT_34006_TCP_PROTO: 'tcp',
    DALGA_PORT_34006_TCP_PORT: '34006',
    DALGA_PORT_34006_TCP_ADDR: '10.96.0.12',
  };

  test("DALGA_* variables that name no section are not Dalga's: ignored, and reported to the caller", () => {
    const loaded = loadConfigWithIgnored(undefined, { ...KUBERNETES, DALGA_CONFIG: 'dalga.ini', DALGA_JOBS_MAX_RUNNING: '7', PATH: '/bin' });
    assert.equal(loaded.config.jobs.maxRunning, 7, "the variables that are Dalga's still apply");
    assert.deepEqual(loaded.config.database, { kind: 'sqlite', file: 'dalga.sqlite', table: 'dalga' }, 'nothing else changed');
    assert.deepEqual(loaded.ignoredEnvironment, [...Object.keys(KUBERNETES), 'DALGA_CONFIG'].sort());
    // The plain loader, used by ormconfig.ts, ignores them the same way.
    assert.deepEqual(loadConfig(undefined, KUBERNETES), loadConfig(undefined, {}));
    assert.deepEqual(environmentOverrides(KUBERNETES), {});
    assert.deepEqual(loadConfigWithIgnored(undefined, {}).ignoredEnvironment, []);
    // A prototype name is no section either.
    assert.deepEqual(loadConfigWithIgnored(undefined, { DALGA_CONSTRUCTOR_X: '1' }).ignoredEnvironment, ['DALGA_CONSTRUCTOR_X']);
  });

  test('an unknown section in the config file still stops the server, environment or not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dalga-config-'));
    const file = join(dir, 'dalga.ini');
    writeFileSync(file, '[service]\nhost = x\n');
    try {
      assert.throws(() => loadConfigWithIgnored(file, KUBERNETES), /unknown section \[service\]/);
      assert.throws(() => loadConfig(file, {}), /unknown section \[service\]/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('a missing config file is a clear error', () => {
    assert.throws(() => loadConfig('/nonexistent/dalga.ini', {}), /cannot read config file \/nonexistent\/dalga.ini: ENOENT/);
  });
});
