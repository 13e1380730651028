// The service worker's precache list names every shell file, and only files that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('../../../pwa/', import.meta.url).pathname;
const sw = readFileSync(join(root, 'static/sw.js'), 'utf8');
const list = (name) => JSON.parse(sw.match(new RegExp(`const ${name} = (\\[[\\s\\S]*?\\]);`))[1]
  .replace(/'/g, '"').replace(/,\s*\]/, ']'));
const listed = list('SHELL_ASSETS');
const onlineOnly = list('ONLINE_ONLY');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

test('every listed static asset exists', () => {
  for (const url of listed.filter((u) => u.startsWith('/static/'))) {
    assert.ok(existsSync(join(root, url)), `${url} is precached but missing`);
  }
});

test('every app module is precached (else the app breaks offline)', () => {
  const modules = walk(join(root, 'static/js')).map((p) => p.slice(join(root).length - 1))
    .filter((p) => p.endsWith('.js') && !p.endsWith('api-docs.js'));
  for (const module of modules) {
    assert.ok(listed.includes(module) || onlineOnly.includes(module), `${module} is not precached`);
  }
});

test('no precached module imports an online-only one statically (it would not load offline)', () => {
  const names = onlineOnly.map((url) => url.split('/').pop());
  for (const url of listed.filter((u) => u.endsWith('.js'))) {
    const source = readFileSync(join(root, url), 'utf8');
    for (const [, from] of source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gm)) {
      assert.ok(!names.includes(from.split('/').pop()), `${url} imports ${from} statically`);
    }
  }
});

test('the precached shell stays within 100 KB gzipped (a phone on a weak signal)', () => {
  // '/' and the manifest are rendered from pwa/templates; their templates stand in for them.
  const files = listed.map((url) => (url.startsWith('/static/') ? join(root, url)
    : url === '/' ? join(root, 'templates/app.html') : join(root, 'templates/manifest.webmanifest')));
  const gzipped = files.reduce((sum, path) => sum + gzipSync(readFileSync(path), { level: 9 }).length, 0);
  assert.ok(gzipped <= 100 * 1024, `shell is ${(gzipped / 1024).toFixed(1)} KB gzipped`);
});

test('desk screens and the map library are never precached (the phone shell stays small)', () => {
  const desk = listed.filter((url) => url.startsWith('/static/desk/') || url.startsWith('/static/vendor/leaflet/'));
  assert.deepEqual(desk, []);
  const app = readFileSync(join(root, 'static/js/app.js'), 'utf8');
  for (const name of ['queue', 'visit', 'dashboard']) {
    assert.ok(existsSync(join(root, `static/desk/${name}.js`)), `desk/${name}.js is missing`);
    assert.match(app, new RegExp(`import\\('\\.\\./desk/${name}\\.js'\\)`), `desk/${name}.js is not loaded on demand`);
  }
});

test('the only precached words are the phone dictionaries; the desk dictionaries never are', () => {
  // The desk's words (review desk, check-in desk, problems only the desk meets, workflow)
  // are fetched when a desk screen opens: on a phone they would only weigh on the shell.
  const words = listed.filter((url) => url.endsWith('.json') || url.includes('/i18n/'));
  assert.deepEqual(words.sort(), ['/static/i18n/en.json', '/static/i18n/zh-CN.json']);
  for (const desk of ['/static/desk/i18n/zh-CN.json', '/static/desk/i18n/en.json',
    '/static/i18n/workflow/zh-CN.json', '/static/i18n/workflow/en.json']) {
    assert.ok(existsSync(join(root, desk)), `${desk} is missing`);
    assert.ok(!listed.includes(desk), `${desk} is precached`);
  }
});

test('every desk screen fetches the desk dictionary when it opens', () => {
  for (const module of ['desk/common.js', 'desk/checkin-desk.js', 'desk/workflow/common.js']) {
    const source = readFileSync(join(root, 'static', module), 'utf8');
    assert.ok(source.includes("'/static/desk/i18n'") && /\bextend\(/.test(source), `${module} does not load the desk's words`);
  }
});

test('desk words exist in both languages', () => {
  const zh = JSON.parse(readFileSync(join(root, 'static/desk/i18n/zh-CN.json'), 'utf8'));
  const en = JSON.parse(readFileSync(join(root, 'static/desk/i18n/en.json'), 'utf8'));
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
});
