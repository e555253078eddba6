/**
 * Issue 17 items 14, 15 and 17: hostile inputs that used to cost a 500, unbounded memory or another
 * client's state are refused as invalid input, bounded by bytes, and kept apart.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSurface } from '../../src/server/emulator.js';

describe('deeply nested JSON', () => {
  test('PATCH /vm nested 10,000 deep is a 400 InvalidVm, as any invalid VM, and the VM is unchanged', async () => {
    const app = await buildSurface('control');
    try {
      const before = JSON.stringify(app.state.machine.document);
      const deep = (open: string, close: string) => `${open.repeat(10_000)}1${close.repeat(10_000)}`;
      for (const body of [
        deep('{"a":', '}'),
        `{"compute":{"tags":${deep('{"a":', '}')}}}`,
        `{"compute":{"userData":${deep('[', ']')}}}`,
      ]) {
        for (const contentType of ['application/json', 'application/merge-patch+json']) {
          const res = await app.inject({
            method: 'PATCH',
            url: '/vm',
            payload: body,
            headers: { 'content-type': contentType },
          });
          assert.equal(res.statusCode, 400, res.body.slice(0, 200));
          assert.equal(res.json().error.code, 'InvalidVm');
          assert.match(res.json().error.message, /deeper than 32 levels/);
        }
      }
      assert.equal(JSON.stringify(app.state.machine.document), before);
      // A patch of ordinary depth still works.
      const ok = await app.inject({
        method: 'PATCH',
        url: '/vm',
        payload: { compute: { tags: { team: 'a' } } },
      });
      assert.equal(ok.statusCode, 200, ok.body);
    } finally {
      await app.close();
    }
  });
});
