/**
 * How to install azimds is said in one place, docs/install.md, while the package is not on the npm
 * registry (issue 17 B10): no other page tells users to `npm install azimds` from the registry, and
 * the pages that install it link to install.md.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/cli.js';

/** README.md and every page under docs/, relative to the repository root. */
function pages(): string[] {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) out.push(path);
    }
  };
  walk('docs');
  return out;
}

// `npm install azimds`, `npm i -D azimds`, `npm add --save-dev azimds@1`: the registry package by name.
const REGISTRY_INSTALL = /\bnpm (?:install|i|add)\b[^\n`]*?(?<![\w./-])azimds(?:@[\w.^~-]+)?(?![\w./-])/;

test('only docs/install.md says how to install azimds; no page installs it from the registry', () => {
  for (const page of pages()) {
    if (page === 'docs/install.md') continue;
    const text = readFileSync(join(ROOT, page), 'utf8');
    assert.doesNotMatch(text, REGISTRY_INSTALL, page);
  }
  const install = readFileSync(join(ROOT, 'docs/install.md'), 'utf8');
  assert.match(install, /not published on the npm registry/);
  assert.match(install, /npm pack/);
  for (const page of ['README.md', 'docs/ci.md', 'docs/library.md']) {
    assert.match(readFileSync(join(ROOT, page), 'utf8'), /install\.md/, `${page} links to install.md`);
  }
});
