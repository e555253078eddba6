import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('a reader that closes the pipe early (azimds config schema | head) ends the command quietly with exit 0', () => {
  // The schema is larger than a pipe's buffer, so the CLI is still writing when head exits.
  const result = spawnSync(
    'bash',
    ['-c', 'set -o pipefail; node_modules/.bin/node dist/cli/main.js config schema | head -c 1 >/dev/null'],
    { encoding: 'utf8' },
  );
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
});
