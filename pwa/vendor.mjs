// `make vendor`: fetch the exact versions pinned in package.json from the npm registry and
// copy the files each mapping names into static/vendor/ (and the test-only ones into
// tests/e2e/vendor/). No build step: what is copied is what the browser loads.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const pinned = { ...manifest.dependencies, ...manifest.devDependencies };
const mappings = { ...manifest.vendor, ...manifest.testVendor };
const work = mkdtempSync(join(tmpdir(), 'doorstep-vendor-'));
try {
  const specs = Object.keys(mappings).map((name) => `${name}@${pinned[name]}`);
  execFileSync('npm', ['install', '--no-save', '--ignore-scripts', '--prefix', work, ...specs],
    { stdio: 'inherit' });
  for (const [name, { from, to }] of Object.entries(mappings)) {
    const target = join(here, to);
    const sources = Array.isArray(from) ? from : [from];
    const intoFolder = to.endsWith('/') || sources.length > 1;
    mkdirSync(intoFolder ? target : dirname(target), { recursive: true });
    for (const source of sources) {
      const path = join(work, 'node_modules', name, source);
      const isFolder = statSync(path).isDirectory();
      const destination = intoFolder ? join(target, isFolder ? source.replace(/^.*?([^/]+)\/?$/, '$1') : source.split('/').pop()) : target;
      cpSync(path, destination, { recursive: isFolder });
      console.log(`${name}@${pinned[name]}: ${source} -> ${destination.replace(here + '/', '')}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
