import assert from 'node:assert/strict';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { DalgaProcess, runCli, writeConfig } from './dalga-process.js';
import { EndpointServer } from './endpoint-server.js';

/** What most end-to-end tests need: a fresh database, a recording endpoint, and a config file for both. */
export interface TestStack {
  db: TestDatabase;
  endpoint: EndpointServer;
  /** Path of the config file. */
  config: string;
  /** Closes the endpoint and drops the database (stop servers first). */
  teardown(): Promise<void>;
}

/**
 * Builds a TestStack; `sections` is extra INI text given the endpoint's base URL. On MySQL the
 * table is created with -create-table, as a user would.
 */
export async function createTestStack(kind: DatabaseKind, sections: (baseUrl: string) => string): Promise<TestStack> {
  const db = createTestDatabase(kind);
  const endpoint = await EndpointServer.start();
  const config = writeConfig(db, sections(endpoint.baseUrl));
  if (kind === 'mysql') {
    const created = await runCli(['-config', config, '-create-table']);
    if (created.code !== 0) await endpoint.close(); // an open endpoint would keep the test process alive
    assert.equal(created.code, 0, created.stderr);
  }
  return {
    db,
    endpoint,
    config,
    async teardown() {
      await endpoint.close();
      await db.drop();
    },
  };
}

/** A TestStack with a running server. */
export async function startTestStack(kind: DatabaseKind, sections: (baseUrl: string) => string): Promise<TestStack & { dalga: DalgaProcess }> {
  const stack = await createTestStack(kind, sections);
  const dalga = await DalgaProcess.start(stack.config);
  return {
    ...stack,
    dalga,
    async teardown() {
      await dalga.stop();
      await stack.teardown();
    },
  };
}
