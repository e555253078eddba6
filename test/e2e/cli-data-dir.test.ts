import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parse } from 'yaml';

const printConfig = (args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(
    'node_modules/.bin/node',
    ['dist/cli/main.js', 'start', '--print-config', ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    },
  );
  assert.equal(result.status, 0, result.stderr);
  return parse(result.stdout) as { dataDir: string };
};

test('--data-dir sets dataDir and wins over AZIMDS_DATA_DIR', () => {
  assert.equal(printConfig([], { AZIMDS_DATA_DIR: '/tmp/azimds-env' }).dataDir, '/tmp/azimds-env');
  assert.equal(
    printConfig(['--data-dir', '/tmp/azimds-flag'], { AZIMDS_DATA_DIR: '/tmp/azimds-env' }).dataDir,
    '/tmp/azimds-flag',
  );
});
