/** docs/dalga.service is the unit the README shows under "systemd": one cannot change without the other. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const ROOT = new URL('../../', import.meta.url);

test('docs/dalga.service is the README systemd unit', () => {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  const section = readme.slice(readme.indexOf('\n### systemd\n'));
  const block = /```ini\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'README has an ini block under "### systemd"');
  assert.equal(readFileSync(new URL('docs/dalga.service', ROOT), 'utf8'), block[1]);
});
