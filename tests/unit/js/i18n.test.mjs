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

// The desk screens' words are fetched when one opens (desk/i18n, never precached), on top of
// the phone's: each key they ask for is in one of the two, and in only one (a word in both
// would be precached for nothing).
const deskZh = JSON.parse(readFileSync(join(root, 'desk/i18n/zh-CN.json'), 'utf8'));
const deskEn = JSON.parse(readFileSync(join(root, 'desk/i18n/en.json'), 'utf8'));

test('every key a desk screen asks for with t() exists in both languages', () => {
  const missing = [];
  let found = 0;
  for (const path of walk(join(root, 'desk')).filter((p) => p.endsWith('.js'))) {
    const source = readFileSync(path, 'utf8');
    for (const [, key] of source.matchAll(/\bt\('([a-z][\w-]*\.[\w.-]+)'/g)) {
      found += 1;
      if (!(key in zh || key in deskZh) || !(key in en || key in deskEn)) missing.push(`${path.slice(root.length)}: ${key}`);
    }
  }
  assert.ok(found > 50, `only ${found} keys found: is the pattern still right?`);
  assert.deepEqual(missing, []);
});

test('no word is in both the phone and the desk dictionary', () => {
  assert.deepEqual(Object.keys(deskZh).filter((key) => key in zh), []);
  assert.deepEqual(Object.keys(deskEn).filter((key) => key in en), []);
});
