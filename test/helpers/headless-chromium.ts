import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's package (.ci/install-packages installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** A reason to skip the browser tests when Chromium is missing, outside CI; in CI it is an error. */
export function chromiumMissing(what: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: run .ci/install-chromium`);
  const note = `${CHROMIUM} not installed (run .ci/install-chromium): ${what} skipped`;
  process.stderr.write(`NOTE: ${note}\n`);
  return note;
}

export interface HeadlessBrowser {
  context: BrowserContext;
  /** The first tab. */
  page: Page;
  close(): Promise<void>;
}

/** Headless Chromium with a throwaway profile, nothing fetched but what the tests load. */
export async function launchChromium(): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'dalga-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Polls a browser-side expression until it is true. (page.waitForFunction with a string compiles
 * it with `new Function` inside the page, which the pages' CSP rightly refuses; page.evaluate runs
 * it through the DevTools protocol instead.) Expressions are strings: the project compiles
 * without the DOM library.
 */
export async function waitInPage(page: Page, expression: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
