import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Router from '@koa/router';

/**
 * The OpenAPI document is kept as openapi.json at the package root (one file, reviewed like code,
 * and validated against live responses by test/e2e/openapi.test.ts). It is looked up from this
 * file's directory upwards, so the same code finds it from src/ (tsx) and from dist/src/ (tsc).
 */
export function openApiFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'openapi.json');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('openapi.json not found above the installed package');
}

/** GET /openapi.json: the document, read once at startup, with the running version. */
export function openApiRoutes(router: Router, deps: { version: string }): void {
  const document = JSON.parse(readFileSync(openApiFile(), 'utf8')) as { info?: Record<string, unknown> };
  const body = JSON.stringify({ ...document, info: { ...document.info, version: deps.version } }, null, 2);
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = body;
  });
}
