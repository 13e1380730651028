// Every word the screens ask for exists in both languages (a missing key shows as its name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../pwa/static/', import.meta.url).pathname;
const zh = JSON.parse(readFileSync(join(root, 'i18n/zh-CN.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(root, 'i18n/en.json'), 'utf8'));

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

test('both languages have the same keys', () => {
  assert.deepEqual(Object.keys(en).sort(), Object.keys(zh).sort());
});

test('every key a module asks for with t() exists in both languages', () => {
  const missing = [];
  let found = 0;
  for (const path of walk(join(root, 'js')).filter((p) => p.endsWith('.js'))) {
    const source = readFileSync(path, 'utf8');
    for (const [, key] of source.matchAll(/\bt\('([a-z][\w-]*\.[\w.-]+)'/g)) {
      found += 1;
      if (!(key in zh) || !(key in en)) missing.push(`${path.slice(root.length)}: ${key}`);
    }
  }
  assert.ok(found > 100, `only ${found} keys found: is the pattern still right?`);
  assert.deepEqual(missing, []);
});
