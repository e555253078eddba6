/**
 * The Node.js floor (src/node-version.ts): package.json's `engines` says it, and on an older Node the
 * CLI and `import 'azimds'` stop with one sentence naming it — no stack trace. Checked with the
 * machine's own older Node when there is one (`/usr/bin/node` from Debian's nodejs package, which
 * .ci/run installs), and always with a Node that reports an old version (a preload rewrites
 * `process.version`), which exercises the check itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REQUIRED_NODE_MAJOR } from '../../src/node-version.js';
import { assertCliBuilt, CLI, NODE, ROOT } from '../support/cli.js';

const SENTENCE = new RegExp(
  `^azimds needs Node\\.js ${REQUIRED_NODE_MAJOR} or later; this is Node\\.js v\\d+\\.\\d+\\.\\d+ \\(in a clone, \`npx azimds\` and \`npm start\` run it on the Node of the \`node\` dev dependency\\)\\.\\n$`,
);
const dir = mkdtempSync(join(tmpdir(), 'azimds-node-floor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `node [...args]` and returns status, stdout and stderr. */
function run(node: string, args: string[]) {
  const result = spawnSync(node, args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Ways users load azimds: the CLI, and the library by its package entry. */
function entries(): Array<[string, string[]]> {
  const library = join(ROOT, 'dist/index.js');
  const importer = join(dir, 'import-azimds.mjs');
  writeFileSync(importer, `await import(${JSON.stringify(library)});\nconsole.log('loaded');\n`);
  return [
    ['azimds --version', [CLI, '--version']],
    ['azimds start', [CLI, 'start', '--port', '0']],
    ["import 'azimds'", [importer]],
  ];
}

/** The machine's system Node when it is older than the floor. */
function olderSystemNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout;
    if (Number.parseInt(version, 10) < REQUIRED_NODE_MAJOR) return candidate;
  }
  return undefined;
}

describe('Node.js floor', () => {
  test("package.json's engines says the floor the check enforces", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.engines.node, `>=${REQUIRED_NODE_MAJOR}`);
  });

  test('an older Node (as reported) gets one sentence and exit 1 from the CLI and the library', () => {
    assertCliBuilt();
    const fake = join(dir, 'old-node.mjs');
    writeFileSync(
      fake,
      "Object.defineProperty(process, 'version', { value: 'v20.11.1' });\n" +
        "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.11.1' } });\n",
    );
    for (const [what, args] of entries()) {
      const result = run(NODE, ['--import', fake, ...args]);
      assert.equal(result.status, 1, what);
      assert.match(result.stderr, SENTENCE, what);
      assert.equal(result.stdout, '', what);
    }
  });

  const system = olderSystemNode();
  test("the machine's older Node gets one sentence and exit 1 from the CLI and the library", {
    skip: system ? false : `no Node.js older than ${REQUIRED_NODE_MAJOR} on this machine`,
  }, () => {
    assertCliBuilt();
    for (const [what, args] of entries()) {
      const result = run(system as string, args);
      assert.equal(result.status, 1, `${what}: ${result.stderr}`);
      assert.match(result.stderr, SENTENCE, what);
    }
  });

  test('the current Node loads the library', () => {
    assertCliBuilt();
    const [, , library] = entries();
    const result = run(NODE, (library as [string, string[]])[1]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'loaded\n');
  });
});
