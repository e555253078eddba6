import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { vmSchema } from '../../src/config/schema.js';
import type { JsonObject } from '../../src/core/machines/json.js';
import { Machine } from '../../src/core/machines/machine.js';
import { mergePatch, patchMachine } from '../../src/core/machines/patch.js';

const compute = (m: Machine) => m.document.compute as JsonObject;

describe('JSON merge patch (RFC 7396)', () => {
  test('merges objects, deletes null keys and replaces arrays and scalars', () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: 'x' };
    assert.deepEqual(mergePatch(target, { a: { b: 3, c: null }, list: [9], d: 'new' }), {
      a: { b: 3 },
      list: [9],
      keep: 'x',
      d: 'new',
    });
    assert.deepEqual(target, { a: { b: 1, c: 2 }, list: [1, 2], keep: 'x' });
  });
});

describe('patching the VM', () => {
  test('adds a tag to the tags the VM serves, defaults included, and bumps the revision', () => {
    const machine = new Machine(vmSchema.parse({}));
    const before = machine.revision;
    assert.deepEqual(patchMachine(machine, { compute: { tags: { team: 'payments' } } }), { ok: true });
    assert.equal(compute(machine).tags, 'environment:dev;owner:azimds;team:payments');
    assert.ok(machine.revision > before);
  });

  test('null removes a tag; a tags string replaces them all', () => {
    const machine = new Machine(vmSchema.parse({ compute: { tags: 'a:1;b:2' } }));
    patchMachine(machine, { compute: { tags: { a: null } } });
    assert.equal(compute(machine).tags, 'b:2');
    patchMachine(machine, { compute: { tags: 'x:9' } });
    assert.equal(compute(machine).tags, 'x:9');
  });

  test('changes any compute field, such as userData and vmSize', () => {
    const machine = new Machine(vmSchema.parse({}));
    patchMachine(machine, {
      compute: { userData: Buffer.from('hello').toString('base64'), vmSize: 'Standard_B1s' },
    });
    assert.equal(compute(machine).userData, 'aGVsbG8=');
    assert.equal(compute(machine).vmSize, 'Standard_B1s');
  });

  test('an invalid patch is refused with the key path and leaves the VM unchanged', () => {
    const machine = new Machine(vmSchema.parse({}));
    const before = machine.revision;
    const result = patchMachine(machine, { compute: { vmId: 'not-a-uuid' } });
    assert.equal(result.ok, false);
    assert.match((result as { message: string }).message, /^vm\.compute\.vmId: /);
    assert.equal(machine.revision, before);
  });

  test('a body that is not an object is refused', () => {
    const machine = new Machine(vmSchema.parse({}));
    assert.equal(patchMachine(machine, [1]).ok, false);
    assert.equal(patchMachine(machine, 'x').ok, false);
  });
});
