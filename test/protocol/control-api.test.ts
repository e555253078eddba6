/**
 * The control API (docs/control-api.md): each operation over inject() and real HTTP, its effect
 * checked through IMDS, errors as `{"error":{"code","message"}}`, and the OpenAPI file covering every route.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { parse as parseYaml } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { NEWEST_IMDS_VERSIONS } from '../../src/core/machines/api-versions.js';
import { controlAddress } from '../../src/protocols/control/address.js';
import { controlListenerSpec } from '../../src/protocols/control/listener.js';
import { createState, libraryConfig } from '../../src/server/emulator.js';
import { freePortBlock } from '../support/cli.js';
import { BOTH, METADATA, openEmulator, type Reply, type TestEmulator } from '../support/control.js';

const V = NEWEST_IMDS_VERSIONS[0];
const TAGS = `/metadata/instance/compute/tags?api-version=${V}&format=text`;
const EVENTS = '/metadata/scheduledevents?api-version=2020-07-01';
const token = (params: Record<string, string> = {}) =>
  `/metadata/identity/oauth2/token?${new URLSearchParams({ 'api-version': '2018-02-01', resource: 'https://management.azure.com/', ...params })}`;

function assertControlError(res: Reply, status: number, code: string): void {
  assert.equal(res.status, status, res.body);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(res.json?.error?.code, code, res.body);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
}

for (const transport of BOTH) {
  describe(`control API over ${transport}`, () => {
    let emu: TestEmulator;
    before(async () => {
      emu = await openEmulator(transport, {
        identity: { userAssigned: [{ name: 'id-app' }] },
        scheduledEvents: { events: [{ type: 'Freeze', notBefore: '+1h', id: 'CONFIGURED-FREEZE' }] },
        faults: [{ id: 'configured', path: '/never', status: 500 }],
      });
    });
    after(() => emu.close());

    test('GET / names the emulator and its version', async () => {
      const res = await emu.control('/');
      assert.equal(res.status, 200);
      assert.equal(res.json.name, 'azimds');
      assert.match(res.json.version, /^\d+\.\d+\.\d+/);
    });

    test('an unknown operation is a 404 with the control error shape', async () => {
      assertControlError(await emu.control('/nope'), 404, 'NotFound');
      assertControlError(await emu.control('/faults', { method: 'PUT' }), 404, 'NotFound');
    });

    test('a body that is not JSON is a 400 with the control error shape', async () => {
      const res = await emu.control('/faults', {
        method: 'POST',
        rawBody: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      assertControlError(res, 400, 'BadRequest');
    });

    test('GET /attestation gives the CA that verifies the attested document and the signer it issued', async () => {
      const res = await emu.control('/attestation');
      assert.equal(res.status, 200);
      const ca = new X509Certificate(res.json.caCertificate);
      const signer = new X509Certificate(res.json.signerCertificate);
      assert.ok(ca.ca, 'a CA certificate');
      assert.ok(signer.checkIssued(ca) && signer.verify(ca.publicKey), 'signer issued by the CA');
      assert.match(signer.subjectAltName ?? '', /emulator\.metadata\.azure\.com/);
    });

    describe('VM', () => {
      after(() => emu.control('/reset', { method: 'POST' }));

      test('GET /vm returns the instance document IMDS serves', async () => {
        const [vm, imds] = await Promise.all([
          emu.control('/vm'),
          emu.imds(`/metadata/instance?api-version=${V}`, { headers: METADATA }),
        ]);
        assert.equal(vm.status, 200);
        assert.deepEqual(vm.json, imds.json);
      });

      test('PATCH /vm adds a tag and IMDS serves it at once', async () => {
        const res = await emu.control('/vm', {
          method: 'PATCH',
          body: { compute: { tags: { team: 'payments' } } },
        });
        assert.equal(res.status, 200);
        assert.equal(res.json.compute.tags, 'environment:dev;owner:azimds;team:payments');
        assert.equal(
          (await emu.imds(TAGS, { headers: METADATA })).body,
          'environment:dev;owner:azimds;team:payments',
        );
      });

      test('PATCH /vm accepts application/merge-patch+json and changes userData', async () => {
        const userData = Buffer.from('#cloud-config\n').toString('base64');
        const res = await emu.control('/vm', {
          method: 'PATCH',
          body: { compute: { userData } },
          headers: { 'content-type': 'application/merge-patch+json' },
        });
        assert.equal(res.status, 200);
        const served = await emu.imds(
          `/metadata/instance/compute/userData?api-version=2021-01-01&format=text`,
          {
            headers: METADATA,
          },
        );
        assert.equal(served.body, userData);
      });

      test('PATCH /vm with an invalid value is a 400 naming the key, and the VM is unchanged', async () => {
        const before = (await emu.imds(TAGS, { headers: METADATA })).body;
        const res = await emu.control('/vm', {
          method: 'PATCH',
          body: { compute: { vmId: 'nope', tags: { x: 'y' } } },
        });
        assertControlError(res, 400, 'InvalidVm');
        assert.match(res.json.error.message, /vm\.compute\.vmId/);
        assert.equal((await emu.imds(TAGS, { headers: METADATA })).body, before);
      });

      test('PATCH /vm with an unknown key is a 400', async () => {
        const res = await emu.control('/vm', { method: 'PATCH', body: { compute: { colour: 'red' } } });
        assertControlError(res, 400, 'InvalidVm');
        assert.match(res.json.error.message, /colour/);
      });
    });

    describe('faults', () => {
      after(() => emu.control('/reset', { method: 'POST' }));

      test('lists the configured rules', async () => {
        const res = await emu.control('/faults');
        assert.equal(res.status, 200);
        assert.deepEqual(
          res.json.faults.map((f: { id: string }) => f.id),
          ['configured'],
        );
      });

      test('POST /faults adds a rule (201) that IMDS applies at once', async () => {
        const res = await emu.control('/faults', {
          method: 'POST',
          body: { id: 'versions-down', path: '/metadata/versions', status: 503, times: 1 },
        });
        assert.equal(res.status, 201);
        assert.equal(res.json.id, 'versions-down');
        assert.equal(res.json.remaining, 1);
        assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 503);
        assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 200);
        const rule = await emu.control('/faults/versions-down');
        assert.deepEqual([rule.json.hits, rule.json.expired], [1, true]);
      });

      test('POST /faults with an invalid rule is a 400 that says why', async () => {
        const res = await emu.control('/faults', { method: 'POST', body: { path: '/x', status: 418 } });
        assertControlError(res, 400, 'InvalidInput');
        assert.match(res.json.error.message, /404, 410, 429, 500, 503/);
      });

      test('DELETE /faults/{id} deletes one rule; an unknown id is a 404', async () => {
        await emu.control('/faults', { method: 'POST', body: { id: 'tmp', status: 500, path: '/x' } });
        assert.equal((await emu.control('/faults/tmp', { method: 'DELETE' })).status, 204);
        assertControlError(await emu.control('/faults/tmp', { method: 'DELETE' }), 404, 'FaultNotFound');
        assertControlError(await emu.control('/faults/tmp'), 404, 'FaultNotFound');
      });

      test('DELETE /faults deletes every rule', async () => {
        assert.equal((await emu.control('/faults', { method: 'DELETE' })).status, 204);
        assert.deepEqual((await emu.control('/faults')).json.faults, []);
      });
    });

    describe('clock', () => {
      after(() => emu.control('/clock/reset', { method: 'POST' }));

      test('advance moves the clock by a duration; reset returns to real time', async () => {
        const res = await emu.control('/clock/advance', { method: 'POST', body: { by: '10m' } });
        assert.equal(res.status, 200);
        assert.equal(res.json.offsetMs, 600_000);
        assert.equal(Date.parse(res.json.now), res.json.epochMs);
        const again = await emu.control('/clock/advance', { method: 'POST', body: { by: -60_000 } });
        assert.equal(again.json.offsetMs, 540_000);
        assert.equal((await emu.control('/clock/reset', { method: 'POST' })).json.offsetMs, 0);
      });

      test('set puts the clock at a date', async () => {
        const res = await emu.control('/clock/set', {
          method: 'POST',
          body: { time: '2030-06-01T12:00:00Z' },
        });
        assert.equal(res.status, 200);
        assert.equal(res.json.now.slice(0, 13), '2030-06-01T12');
        assert.equal(emu.state.clock.now() > Date.parse('2030-06-01T12:00:00Z') - 1000, true);
      });

      test('a bad duration or date is a 400', async () => {
        assertControlError(
          await emu.control('/clock/advance', { method: 'POST', body: { by: 'soon' } }),
          400,
          'InvalidInput',
        );
        assertControlError(
          await emu.control('/clock/set', { method: 'POST', body: { time: 'tomorrow' } }),
          400,
          'InvalidInput',
        );
        assertControlError(
          await emu.control('/clock/advance', { method: 'POST', body: {} }),
          400,
          'InvalidInput',
        );
      });
    });

    describe('request log', () => {
      test('records IMDS requests (not control API ones), newest last, readable after a seq', async () => {
        await emu.control('/logs', { method: 'DELETE' });
        await emu.imds(`/metadata/instance?api-version=${V}`, { headers: METADATA });
        await emu.imds('/metadata/versions');
        const res = await emu.control('/logs');
        assert.equal(res.status, 200);
        const entries = res.json.entries as Array<Record<string, unknown>>;
        assert.deepEqual(
          entries.map((e) => [e.surface, e.method, e.path, e.status]),
          [
            ['imds', 'GET', '/metadata/instance', 200],
            ['imds', 'GET', '/metadata/versions', 400],
          ],
        );
        assert.deepEqual(entries[0]?.query, { 'api-version': V });
        assert.equal(typeof entries[0]?.latencyMs, 'number');
        assert.equal(typeof entries[0]?.client, 'string');
        const newer = await emu.control(`/logs?after=${entries[0]?.seq}`);
        assert.deepEqual(
          newer.json.entries.map((e: { path: string }) => e.path),
          ['/metadata/versions'],
        );
        const limited = await emu.control('/logs?limit=1');
        assert.equal(limited.json.entries.length, 1);
      });

      test('records the identity a token request was served for, and never its secrets', async () => {
        await emu.control('/logs', { method: 'DELETE' });
        const secret = 'never-log-this-9f8e7d';
        const { userAssigned } = (await emu.control('/identities')).json;
        const clientId = userAssigned[0].clientId as string;
        const res = await emu.imds(token({ client_id: clientId, client_secret: secret, token: secret }), {
          headers: { ...METADATA, Authorization: `Bearer ${secret}`, 'X-IDENTITY-HEADER': secret, secret },
        });
        assert.equal(res.status, 200);
        const log = await emu.control('/logs');
        assert.ok(!log.body.includes(secret), log.body);
        const [entry] = log.json.entries;
        assert.equal(entry.identity, clientId);
        assert.equal(entry.query.client_secret, '[redacted]');
        assert.equal(entry.query.client_id, clientId);
        // The access token in the response is not recorded either.
        assert.ok(!log.body.includes(JSON.parse(res.body).access_token));
      });

      test('GET /logs?wait= answers when the next request arrives (long poll)', async () => {
        const last = (await emu.control('/logs')).json.last as number;
        const waiting = emu.control(`/logs?after=${last}&wait=30000`);
        setTimeout(() => void emu.imds('/metadata/versions', { headers: METADATA }), 50);
        const res = await waiting;
        assert.equal(res.status, 200);
        assert.deepEqual(
          res.json.entries.map((e: { path: string }) => e.path),
          ['/metadata/versions'],
        );
      });

      test('a bad query is a 400', async () => {
        assertControlError(await emu.control('/logs?after=-1'), 400, 'InvalidInput');
        assertControlError(await emu.control('/logs?limit=lots'), 400, 'InvalidInput');
      });
    });

    describe('scheduled events', () => {
      after(() => emu.control('/reset', { method: 'POST' }));

      test('lists the configured events with the incarnation', async () => {
        const res = await emu.control('/events');
        assert.equal(res.status, 200);
        assert.equal(typeof res.json.incarnation, 'number');
        assert.deepEqual(
          res.json.events.map((e: { id: string; status: string }) => [e.id, e.status]),
          [['CONFIGURED-FREEZE', 'Scheduled']],
        );
      });

      test('POST /events schedules an event that IMDS serves', async () => {
        const res = await emu.control('/events', {
          method: 'POST',
          body: { type: 'Reboot', notBefore: '+5m', id: 'R1' },
        });
        assert.equal(res.status, 201);
        assert.equal(res.json.status, 'Scheduled');
        assert.match(res.json.notBefore, /^\d{4}-\d\d-\d\dT/);
        const served = await emu.imds(EVENTS, { headers: METADATA });
        assert.ok(
          served.json.Events.some(
            (e: { EventId: string; EventType: string }) => e.EventId === 'R1' && e.EventType === 'Reboot',
          ),
        );
      });

      test('POST /events/{id}/approve starts it', async () => {
        const res = await emu.control('/events/R1/approve', { method: 'POST' });
        assert.equal(res.status, 200);
        assert.equal(res.json.status, 'Started');
        const served = await emu.imds(EVENTS, { headers: METADATA });
        assert.equal(
          served.json.Events.find((e: { EventId: string }) => e.EventId === 'R1').EventStatus,
          'Started',
        );
      });

      test('DELETE /events/{id} cancels it; unknown ids are 404', async () => {
        assert.equal((await emu.control('/events/R1', { method: 'DELETE' })).status, 204);
        assertControlError(await emu.control('/events/R1', { method: 'DELETE' }), 404, 'EventNotFound');
        assertControlError(await emu.control('/events/R1'), 404, 'EventNotFound');
        assertControlError(await emu.control('/events/R1/approve', { method: 'POST' }), 404, 'EventNotFound');
      });

      test('an invalid event is a 400', async () => {
        assertControlError(
          await emu.control('/events', { method: 'POST', body: { type: 'Explode' } }),
          400,
          'InvalidInput',
        );
      });
    });

    describe('identities', () => {
      after(() => emu.control('/reset', { method: 'POST' }));

      test('lists the system-assigned and user-assigned identities', async () => {
        const res = await emu.control('/identities');
        assert.equal(res.status, 200);
        assert.equal(res.json.systemAssigned.kind, 'system-assigned');
        assert.deepEqual(
          res.json.userAssigned.map((u: { name: string }) => u.name),
          ['id-app'],
        );
        assert.match(res.json.tenantId, /^[0-9a-f-]{36}$/);
      });

      test('attaching a user-assigned identity lets a token request select it', async () => {
        const res = await emu.control('/identities/user-assigned', {
          method: 'POST',
          body: { name: 'id-new' },
        });
        assert.equal(res.status, 201);
        assert.equal(res.json.kind, 'user-assigned');
        const served = await emu.imds(token({ client_id: res.json.clientId }), { headers: METADATA });
        assert.equal(served.status, 200, served.body);
        assert.equal(served.json.client_id, res.json.clientId);
      });

      test('a duplicate or invalid identity is a 400', async () => {
        assertControlError(
          await emu.control('/identities/user-assigned', { method: 'POST', body: { name: 'id-new' } }),
          400,
          'InvalidInput',
        );
        assertControlError(
          await emu.control('/identities/user-assigned', { method: 'POST', body: {} }),
          400,
          'InvalidInput',
        );
      });

      test('detaching it makes the token endpoint answer Identity not found', async () => {
        const { userAssigned } = (await emu.control('/identities')).json;
        const clientId = userAssigned.find((u: { name: string }) => u.name === 'id-new').clientId;
        assert.equal(
          (await emu.control('/identities/user-assigned/id-new', { method: 'DELETE' })).status,
          204,
        );
        const served = await emu.imds(token({ client_id: clientId }), { headers: METADATA });
        assert.equal(served.status, 400);
        assert.equal(served.json.error_description, 'Identity not found');
        assertControlError(
          await emu.control('/identities/user-assigned/id-new', { method: 'DELETE' }),
          404,
          'IdentityNotFound',
        );
      });
    });

    test('POST /reset restores the configured VM, identities, events, faults and clock', async () => {
      const tagsBefore = (await emu.imds(TAGS, { headers: METADATA })).body;
      await emu.control('/vm', { method: 'PATCH', body: { compute: { tags: { x: '1' } } } });
      await emu.control('/faults', { method: 'DELETE' });
      await emu.control('/faults', { method: 'POST', body: { path: '/y', status: 500 } });
      await emu.control('/clock/advance', { method: 'POST', body: { by: '2h' } });
      await emu.control('/events', { method: 'POST', body: { type: 'Preempt' } });
      await emu.control('/identities/user-assigned', { method: 'POST', body: { name: 'id-extra' } });

      const res = await emu.control('/reset', { method: 'POST' });
      assert.equal(res.status, 204);
      assert.equal((await emu.imds(TAGS, { headers: METADATA })).body, tagsBefore);
      assert.deepEqual(
        (await emu.control('/faults')).json.faults.map((f: { id: string; hits: number }) => [f.id, f.hits]),
        [['configured', 0]],
      );
      assert.equal((await emu.control('/clock')).json.offsetMs, 0);
      assert.deepEqual(
        (await emu.control('/events')).json.events.map((e: { id: string }) => e.id),
        ['CONFIGURED-FREEZE'],
      );
      assert.deepEqual(
        (await emu.control('/identities')).json.userAssigned.map((u: { name: string }) => u.name),
        ['id-app'],
      );
    });
  });
}

describe('control API listener', () => {
  test('is its own listener: IMDS does not serve control operations', async () => {
    const emu = await openEmulator('http');
    try {
      assert.notEqual(emu.urls.control, emu.urls.imds);
      const res = await emu.imds('/faults', { headers: METADATA });
      assert.equal(res.status, 404);
      assert.match(res.json.error, /^API is not found/);
    } finally {
      await emu.close();
    }
  });

  test('is not started when control.enabled is false', async () => {
    const emu = await openEmulator('http', { control: { enabled: false } });
    try {
      assert.equal(emu.urls.control, undefined);
    } finally {
      await emu.close();
    }
  });

  test('in the library, a given IMDS port leaves the control API and the proxy on free ports (the CLI derives +1, +2)', async () => {
    assert.equal(libraryConfig({ imds: { port: 9000 } }).control.port, 0);
    assert.equal(libraryConfig({ imds: { port: 9000 } }).proxy.port, 0);
    assert.equal(libraryConfig({ imds: { port: 9000 }, control: { port: 9100 } }).control.port, 9100);
    // The ports next to the IMDS port are held by someone else: the library still starts.
    const imdsPort = await freePortBlock(3);
    const holders = [createNetServer(), createNetServer()];
    try {
      await Promise.all(
        holders.map(
          (holder, i) =>
            new Promise<void>((resolve, reject) => {
              holder.once('error', reject);
              holder.listen(imdsPort + i + 1, '127.0.0.1', () => resolve());
            }),
        ),
      );
      const { startEmulator } = await import('../../src/server/emulator.js');
      const emu = await startEmulator({ imds: { port: imdsPort } });
      try {
        assert.equal(emu.urls.imds, `http://127.0.0.1:${imdsPort}`);
        assert.ok(emu.urls.control && emu.urls.control !== `http://127.0.0.1:${imdsPort + 1}`);
        assert.equal((await fetch(`${emu.urls.control}/`)).status, 200);
      } finally {
        await emu.close();
      }
    } finally {
      for (const h of holders) if (h.listening) h.close();
    }
  });

  test('binds loopback even when the surfaces bind every address, on the IMDS port + 1', () => {
    assert.deepEqual(controlAddress(configSchema.parse({})), { host: '127.0.0.1', port: 8170 });
    assert.deepEqual(controlAddress(configSchema.parse({ host: '0.0.0.0', imds: { port: 9000 } })), {
      host: '127.0.0.1',
      port: 9001,
    });
    assert.deepEqual(controlAddress(configSchema.parse({ host: '127.0.0.2' })), {
      host: '127.0.0.2',
      port: 8170,
    });
    assert.deepEqual(controlAddress(configSchema.parse({ control: { host: '0.0.0.0', port: 7000 } })), {
      host: '0.0.0.0',
      port: 7000,
    });
    assert.equal(controlAddress(libraryConfig({})).port, 0);
  });

  test('the OpenAPI file documents exactly the routes the control API serves', async () => {
    const app = Fastify({ exposeHeadRoutes: false });
    const served = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        served.add(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
      }
    });
    // Every plugin of the control listener (the API and the dashboard's routes).
    const state = createState(libraryConfig({}));
    for (const { plugin, options } of controlListenerSpec(state, { host: '127.0.0.1', port: 0 }).plugins) {
      await app.register(plugin, (options ?? {}) as never);
    }
    await app.ready();
    await app.close();
    const spec = parseYaml(
      readFileSync(new URL('../../docs/control-api.openapi.yaml', import.meta.url), 'utf8'),
    );
    assert.equal(spec.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) {
        if (['get', 'post', 'patch', 'put', 'delete'].includes(method)) documented.add(`${method} ${path}`);
      }
    }
    assert.deepEqual([...documented].sort(), [...served].sort());
  });
});
