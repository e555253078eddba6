/**
 * `/metadata/scheduledevents` on the wire (protocols.md §1.2, §4; Microsoft's scheduled-events doc):
 * GET per api-version, POST StartRequests with Azure's validation, the shared IMDS checks, ETag.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EmulatorOptions } from '../../src/server/emulator.js';
import { BOTH, type ImdsClient, openImds } from '../support/imds-client.js';

const SE = '/metadata/scheduledevents?api-version=2020-07-01';
const dataDir = mkdtempSync(join(tmpdir(), 'azimds-se-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const options: EmulatorOptions = {
  dataDir,
  vm: { compute: { name: 'web-01' } },
  scheduledEvents: {
    startedSeconds: 60,
    events: [
      { type: 'Reboot', id: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123', notBefore: '+15m' },
      { type: 'Preempt', id: '5DD55B64-45AD-49D3-BBC9-F57D4EA97BD7', notBefore: '+30s' },
    ],
  },
};

const START_REQUEST_400 = {
  error: 'Bad request. The request body must be {"StartRequests":[{"EventId":"<id>"}]}',
};

for (const transport of BOTH) {
  describe(`scheduled events over ${transport}`, () => {
    let imds: ImdsClient;
    before(async () => {
      imds = await openImds(transport, options);
    });
    after(() => imds.close());

    const reset = () => imds.state.scheduledEvents.reset();

    test('serves the document with DocumentIncarnation as a number and Azure headers', async () => {
      const res = await imds.json(SE);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(typeof res.body.DocumentIncarnation, 'number');
      assert.equal(res.headers.etag, `"${res.body.DocumentIncarnation}"`);
      assert.match(res.headers.server ?? '', /^IMDS\//);
      const reboot = res.body.Events.find((e: { EventType: string }) => e.EventType === 'Reboot');
      assert.equal(reboot.EventId, 'C7061BAC-AFDC-4513-B24B-AA5F13A16123');
      assert.equal(reboot.EventStatus, 'Scheduled');
      assert.deepEqual(reboot.Resources, ['web-01']);
      assert.match(reboot.NotBefore, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      assert.equal(reboot.DurationInSeconds, -1);
      assert.equal(reboot.EventSource, 'Platform');
    });

    test('serves each api-version its own fields', async () => {
      const old = await imds.json('/metadata/scheduledevents?api-version=2017-08-01');
      assert.equal(old.status, 200);
      assert.deepEqual(
        old.body.Events.map((e: { EventType: string }) => e.EventType),
        ['Reboot'],
        'no Preempt before 2017-11-01',
      );
      assert.deepEqual(Object.keys(old.body.Events[0]), [
        'EventId',
        'EventStatus',
        'EventType',
        'ResourceType',
        'Resources',
        'NotBefore',
      ]);
      const preview = await imds.json('/metadata/scheduledevents?api-version=2017-03-01');
      assert.deepEqual(preview.body.Events[0].Resources, ['_web-01']);
    });

    test('answers 304 to If-None-Match with the current ETag', async () => {
      const first = await imds.request(SE);
      const again = await imds.request(SE, { headers: { 'If-None-Match': first.headers.etag ?? '' } });
      assert.equal(again.status, 304);
      assert.equal(again.body, '');
      assert.equal(again.headers.etag, first.headers.etag);
      const stale = await imds.request(SE, { headers: { 'If-None-Match': '0' } });
      assert.equal(stale.status, 200);
    });

    test('moves events with the emulator clock: Started at NotBefore, then gone', async () => {
      reset();
      const start = (await imds.json(SE)).body.DocumentIncarnation;
      // NotBefore is rounded up to a whole second: one more second reaches it.
      imds.state.clock.advance(31_000);
      const started = await imds.json(SE);
      const preempt = started.body.Events.find((e: { EventType: string }) => e.EventType === 'Preempt');
      assert.equal(preempt.EventStatus, 'Started');
      assert.equal(preempt.NotBefore, '');
      assert.equal(started.body.DocumentIncarnation, start + 1);
      imds.state.clock.advance(60_000);
      const gone = await imds.json(SE);
      assert.equal(gone.body.Events.length, 1);
      assert.equal(gone.body.DocumentIncarnation, start + 2);
      imds.state.clock.advance(-91_000);
      reset();
    });

    test('approves an event with POST StartRequests: 200 with an empty body, then Started', async () => {
      reset();
      const before = await imds.json(SE);
      const res = await imds.request(SE, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ StartRequests: [{ EventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123' }] }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
      const after = await imds.json(SE);
      const reboot = after.body.Events.find((e: { EventType: string }) => e.EventType === 'Reboot');
      assert.equal(reboot.EventStatus, 'Started');
      assert.equal(reboot.NotBefore, '');
      assert.equal(after.body.DocumentIncarnation, before.body.DocumentIncarnation + 1);
    });

    test('answers 200 again for an event that is already Started', async () => {
      const body = JSON.stringify({ StartRequests: [{ EventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123' }] });
      await imds.request(SE, { method: 'POST', body });
      const res = await imds.request(SE, { method: 'POST', body });
      assert.equal(res.status, 200);
    });

    test('accepts StartRequests sent as curl -d sends them (form-urlencoded content type)', async () => {
      reset();
      const res = await imds.request(SE, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: '{"StartRequests": [{"EventId": "5dd55b64-45ad-49d3-bbc9-f57d4ea97bd7"}]}',
      });
      assert.equal(res.status, 200);
      assert.equal(imds.state.scheduledEvents.get('5DD55B64-45AD-49D3-BBC9-F57D4EA97BD7')?.status, 'Started');
    });

    test('rejects a body that is not JSON with 400', async () => {
      const res = await imds.json(SE, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"StartRequests": [',
      });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { error: 'Bad request. The request body is not valid JSON' });
    });

    test('rejects a POST without StartRequests, with an empty body, or with an entry without EventId with 400', async () => {
      for (const body of [
        undefined,
        '{}',
        '{"startRequests":[]}',
        '{"StartRequests":{}}',
        '{"StartRequests":[{}]}',
        '[]',
      ]) {
        const res = await imds.json(SE, { method: 'POST', body });
        assert.equal(res.status, 400, String(body));
        assert.deepEqual(res.body, START_REQUEST_400, String(body));
      }
    });

    test('rejects an unknown EventId with 400 and approves none of the request', async () => {
      reset();
      const res = await imds.json(SE, {
        method: 'POST',
        body: JSON.stringify({
          StartRequests: [{ EventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123' }, { EventId: 'not-an-event' }],
        }),
      });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        error: 'Bad request. EventId "not-an-event" is not a current scheduled event',
      });
      assert.equal(
        imds.state.scheduledEvents.get('C7061BAC-AFDC-4513-B24B-AA5F13A16123')?.status,
        'Scheduled',
      );
    });

    test('requires the Metadata header on GET and POST (400)', async () => {
      for (const method of ['GET', 'POST']) {
        const res = await imds.json(SE, {
          method,
          metadata: false,
          body: method === 'POST' ? '{}' : undefined,
        });
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, { error: 'Bad request. Required metadata header not specified' });
      }
    });

    test('rejects X-Forwarded-For with 400', async () => {
      const res = await imds.json(SE, { headers: { 'X-Forwarded-For': '10.0.0.9' } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { error: 'Bad request. X-Forwarded-For header is not allowed' });
    });

    test('rejects an api-version of other IMDS categories, listing its own newest versions', async () => {
      for (const path of ['/metadata/scheduledevents', '/metadata/scheduledevents?api-version=2021-02-01']) {
        const res = await imds.json(path);
        assert.equal(res.status, 400);
        assert.deepEqual(res.body['newest-versions'], ['2020-07-01', '2019-08-01', '2019-04-01']);
        assert.match(res.body.error, /^Bad request\. api-version is invalid/);
      }
    });

    test('rejects verbs other than GET and POST with 405 and Allow', async () => {
      const res = await imds.json(SE, { method: 'DELETE' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET, POST');
      assert.deepEqual(res.body, {
        error: 'Http method is not allowed: Path = "/metadata/scheduledevents", Method = "DELETE"',
      });
    });
  });
}

test('accepts StartRequests without any Content-Type (Python requests with data=str)', async () => {
  const imds = await openImds('inject', options);
  try {
    const res = await imds.request(SE, {
      method: 'POST',
      body: '{"StartRequests":[{"EventId":"C7061BAC-AFDC-4513-B24B-AA5F13A16123"}]}',
    });
    assert.equal(res.status, 200);
  } finally {
    await imds.close();
  }
});

test('config events are served by a started emulator, and events added through state appear at once', async () => {
  const imds = await openImds('http', { dataDir, scheduledEvents: { events: [] } });
  try {
    const empty = await imds.json(SE);
    assert.deepEqual(empty.body, { DocumentIncarnation: 1, Events: [] });
    const added = imds.state.scheduledEvents.add({ type: 'Redeploy', source: 'User', notBefore: '+10m' });
    const res = await imds.json(SE);
    assert.equal(res.body.DocumentIncarnation, 2);
    assert.equal(res.body.Events[0].EventId, added.id);
    assert.equal(res.body.Events[0].EventSource, 'User');
  } finally {
    await imds.close();
  }
});
