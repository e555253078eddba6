/**
 * The scheduled-events core: Azure's lifecycle (Scheduled → Started → gone) driven by a clock the test
 * moves, DocumentIncarnation, approvals, cancellation and the per-version wire document
 * (learn.microsoft.com/azure/virtual-machines/linux/scheduled-events; protocols.md §4).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ScheduledEventInput, scheduledEventsSchema } from '../../src/config/scheduled-events.js';
import { eventsDocument } from '../../src/core/events/document.js';
import { ScheduledEvents } from '../../src/core/events/scheduled-events.js';
import { parseNotBefore, rfc1123 } from '../../src/core/events/time.js';
import { AzimdsError } from '../../src/errors.js';

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0); // Fri, 01 May 2026 12:00:00 GMT
const MIN = 60_000;

/** A clock that only moves when told. */
class TestClock {
  t = T0;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function setup(config: Record<string, unknown> = {}) {
  const clock = new TestClock();
  const events = new ScheduledEvents({
    clock,
    vmName: () => 'web-01',
    config: scheduledEventsSchema.parse(config),
  });
  return { clock, events };
}

describe('scheduled events: adding', () => {
  test('an event added without NotBefore gets the minimum notice of its type', () => {
    const { events } = setup();
    const notice = {
      Freeze: 15 * MIN,
      Reboot: 15 * MIN,
      Redeploy: 10 * MIN,
      Preempt: 30_000,
      Terminate: 5 * MIN,
    };
    for (const [type, ms] of Object.entries(notice)) {
      const e = events.add({ type: type as ScheduledEventInput['type'] });
      assert.equal(e.notBefore, T0 + ms, type);
      assert.equal(e.status, 'Scheduled');
    }
  });

  test('fills Resources with the VM name, EventSource Platform and Azure descriptions and durations', () => {
    const { events } = setup();
    const freeze = events.add({ type: 'Freeze' });
    assert.deepEqual(freeze.resources, ['web-01']);
    assert.equal(freeze.resourceType, 'VirtualMachine');
    assert.equal(freeze.source, 'Platform');
    assert.equal(
      freeze.description,
      'Virtual machine is being paused because of a memory-preserving Live Migration operation.',
    );
    assert.equal(freeze.durationInSeconds, 5);
    const userReboot = events.add({ type: 'Reboot', source: 'User' });
    assert.equal(
      userReboot.description,
      'Virtual machine is going to be restarted as requested by authorized user.',
    );
    assert.equal(userReboot.durationInSeconds, -1);
    assert.equal(events.add({ type: 'Preempt' }).description, '');
  });

  test('generates upper-case GUIDs as EventIds', () => {
    const { events } = setup();
    assert.match(
      events.add({ type: 'Reboot' }).id,
      /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/,
    );
  });

  test('accepts relative (+5m), RFC 1123 and ISO 8601 NotBefore values, rounded up to whole seconds', () => {
    const { events } = setup();
    assert.equal(events.add({ type: 'Reboot', notBefore: '+5m' }).notBefore, T0 + 5 * MIN);
    assert.equal(events.add({ type: 'Reboot', notBefore: '+1h30m' }).notBefore, T0 + 90 * MIN);
    assert.equal(
      events.add({ type: 'Reboot', notBefore: 'Fri, 01 May 2026 13:00:00 GMT' }).notBefore,
      T0 + 60 * MIN,
    );
    assert.equal(events.add({ type: 'Reboot', notBefore: '2026-05-01T12:10:00Z' }).notBefore, T0 + 10 * MIN);
    assert.equal(events.add({ type: 'Reboot', notBefore: T0 + 1500 }).notBefore, T0 + 2000);
  });

  test('adds an event whose NotBefore has passed, or that is given as Started, already Started', () => {
    const { events } = setup();
    const late = events.add({ type: 'Reboot', notBefore: '-1m' });
    assert.equal(late.status, 'Started');
    assert.equal(late.startedAt, T0);
    const failure = events.add({ type: 'Reboot', status: 'Started', notBefore: '+1h' });
    assert.equal(failure.status, 'Started');
  });

  test('rejects an invalid event with INVALID_INPUT and changes nothing', () => {
    const { events } = setup();
    const before = events.incarnation;
    for (const input of [
      { type: 'Explode' },
      { type: 'Reboot', notBefore: 'tomorrow-ish' },
      { type: 'Reboot', notBefore: '12345' },
      { type: 'Reboot', resources: [] },
      { type: 'Reboot', durationInSeconds: -2 },
    ]) {
      assert.throws(
        () => events.add(input as ScheduledEventInput),
        (e: unknown) => e instanceof AzimdsError && e.code === 'INVALID_INPUT',
        JSON.stringify(input),
      );
    }
    assert.equal(events.incarnation, before);
    assert.equal(events.list().length, 0);
  });

  test('rejects an EventId that is already taken, whatever its case', () => {
    const { events } = setup();
    events.add({ type: 'Reboot', id: 'abc-1' });
    assert.throws(() => events.add({ type: 'Freeze', id: 'ABC-1' }), /already exists/);
  });
});

describe('scheduled events: lifecycle driven by the clock', () => {
  test('goes Scheduled → Started at NotBefore → gone after the started duration (-1: startedSeconds)', () => {
    const { clock, events } = setup({ startedSeconds: 120 });
    const e = events.add({ type: 'Reboot', notBefore: '+5m' });
    clock.advance(5 * MIN - 1000);
    assert.equal(events.get(e.id)?.status, 'Scheduled');
    clock.advance(1000);
    const started = events.get(e.id);
    assert.equal(started?.status, 'Started');
    assert.equal(started?.startedAt, T0 + 5 * MIN);
    assert.equal(started?.endsAt, T0 + 7 * MIN);
    assert.equal(started?.approved, false);
    clock.advance(2 * MIN - 1);
    assert.equal(events.get(e.id)?.status, 'Started');
    clock.advance(1);
    assert.equal(events.get(e.id), undefined);
    assert.deepEqual(events.list(), []);
  });

  test('removes a Started event after its DurationInSeconds when that is positive', () => {
    const { clock, events } = setup();
    const e = events.add({ type: 'Freeze', notBefore: '+1m' }); // DurationInSeconds 5
    clock.advance(MIN + 4000);
    assert.equal(events.get(e.id)?.status, 'Started');
    clock.advance(1000);
    assert.equal(events.get(e.id), undefined);
  });

  test('uses startedSeconds for an event with DurationInSeconds 0 (no impact)', () => {
    const { clock, events } = setup({ startedSeconds: 30 });
    const e = events.add({ type: 'Freeze', notBefore: '+1m', durationInSeconds: 0 });
    clock.advance(MIN + 29_000);
    assert.equal(events.get(e.id)?.status, 'Started');
    clock.advance(1000);
    assert.equal(events.get(e.id), undefined);
  });

  test('does not undo a transition when the clock is moved back', () => {
    const { clock, events } = setup();
    const e = events.add({ type: 'Reboot', notBefore: '+5m' });
    clock.advance(5 * MIN);
    assert.equal(events.get(e.id)?.status, 'Started');
    clock.advance(-10 * MIN);
    assert.equal(events.get(e.id)?.status, 'Started');
  });

  test('starts an event added after the clock was moved back once its NotBefore passes', () => {
    const { clock, events } = setup();
    clock.advance(60 * MIN);
    assert.equal(events.incarnation, 1);
    clock.advance(-60 * MIN);
    const e = events.add({ type: 'Reboot', notBefore: '+5m' });
    clock.advance(90 * MIN);
    assert.equal(events.list().length, 0, `${e.id} started and finished`);
  });
});

describe('scheduled events: DocumentIncarnation', () => {
  test('follows Microsoft example: 1 empty, 2 Scheduled, 3 Started, 4 empty again', () => {
    const { clock, events } = setup();
    assert.equal(events.incarnation, 1);
    events.add({ type: 'Freeze', notBefore: '+15m' });
    assert.equal(events.incarnation, 2);
    clock.advance(15 * MIN);
    assert.equal(events.incarnation, 3);
    assert.equal(events.list()[0]?.status, 'Started');
    clock.advance(5000);
    assert.equal(events.incarnation, 4);
    assert.deepEqual(events.list(), []);
  });

  test('counts each time-driven change even when nobody read in between', () => {
    const { clock, events } = setup();
    events.add({ type: 'Freeze', notBefore: '+15m' }); // 2
    clock.advance(60 * MIN); // started (3) and removed (4), unobserved
    assert.equal(events.incarnation, 4);
  });

  test('counts events changing at the same instant as one change', () => {
    const { clock, events } = setup();
    events.add({ type: 'Reboot', notBefore: '+5m' });
    events.add({ type: 'Redeploy', notBefore: '+5m' }); // 3
    clock.advance(5 * MIN);
    assert.equal(events.incarnation, 4);
  });

  test('stays the same while nothing changes, however often it is read', () => {
    const { clock, events } = setup();
    events.add({ type: 'Reboot', notBefore: '+5m' });
    const n = events.incarnation;
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      assert.equal(events.incarnation, n);
    }
  });

  test('grows on add, approve, cancel and reset', () => {
    const { events } = setup({ events: [{ type: 'Reboot', id: 'CONF-1', notBefore: '+1h' }] });
    assert.equal(events.incarnation, 1);
    const a = events.add({ type: 'Reboot' });
    assert.equal(events.incarnation, 2);
    events.approve([a.id]);
    assert.equal(events.incarnation, 3);
    events.cancel('CONF-1');
    assert.equal(events.incarnation, 4);
    events.reset();
    assert.equal(events.incarnation, 5);
  });
});

describe('scheduled events: approval (StartRequests)', () => {
  test('starts a Scheduled event now; it then disappears after its duration', () => {
    const { clock, events } = setup({ startedSeconds: 60 });
    const e = events.add({ type: 'Reboot', notBefore: '+15m' });
    clock.advance(MIN);
    const result = events.approve([e.id]);
    assert.deepEqual(result, { started: [e.id], alreadyStarted: [], unknown: [] });
    const approved = events.get(e.id);
    assert.equal(approved?.status, 'Started');
    assert.equal(approved?.approved, true);
    assert.equal(approved?.startedAt, T0 + MIN);
    clock.advance(MIN);
    assert.equal(events.get(e.id), undefined);
  });

  test('matches EventIds without regard to case', () => {
    const { events } = setup();
    const e = events.add({ type: 'Reboot' });
    assert.deepEqual(events.approve([e.id.toLowerCase()]).started, [e.id]);
  });

  test('accepts an event that already started without a change', () => {
    const { events } = setup();
    const e = events.add({ type: 'Reboot', status: 'Started' });
    const n = events.incarnation;
    assert.deepEqual(events.approve([e.id]), { started: [], alreadyStarted: [e.id], unknown: [] });
    assert.equal(events.incarnation, n);
  });

  test('approves several events in one change', () => {
    const { events } = setup();
    const a = events.add({ type: 'Reboot' });
    const b = events.add({ type: 'Redeploy' });
    const n = events.incarnation;
    assert.deepEqual(events.approve([a.id, b.id]).started, [a.id, b.id]);
    assert.equal(events.incarnation, n + 1);
  });

  test('approves nothing when one of the ids is unknown', () => {
    const { events } = setup();
    const a = events.add({ type: 'Reboot' });
    const n = events.incarnation;
    assert.deepEqual(events.approve([a.id, 'NOPE']), { started: [], alreadyStarted: [], unknown: ['NOPE'] });
    assert.equal(events.get(a.id)?.status, 'Scheduled');
    assert.equal(events.incarnation, n);
  });
});

describe('scheduled events: cancel and reset', () => {
  test('cancel removes a Scheduled or Started event and returns it', () => {
    const { events } = setup();
    const a = events.add({ type: 'Reboot' });
    const b = events.add({ type: 'Reboot', status: 'Started' });
    assert.equal(events.cancel(a.id)?.id, a.id);
    assert.equal(events.cancel(b.id.toLowerCase())?.status, 'Started');
    assert.deepEqual(events.list(), []);
    assert.equal(events.cancel(a.id), undefined);
  });

  test('config events exist from the start, relative to start-up, and come back on reset', () => {
    const { clock, events } = setup({
      events: [{ type: 'Preempt', id: 'SPOT-1', notBefore: '+2m', resources: ['a', 'b'] }],
    });
    assert.equal(events.get('SPOT-1')?.notBefore, T0 + 2 * MIN);
    assert.deepEqual(events.get('SPOT-1')?.resources, ['a', 'b']);
    clock.advance(30 * MIN);
    assert.equal(events.get('SPOT-1'), undefined);
    events.reset();
    assert.equal(events.get('SPOT-1')?.notBefore, T0 + 32 * MIN);
    assert.equal(events.get('SPOT-1')?.status, 'Scheduled');
  });

  test('rejects duplicate EventIds in the config', () => {
    const result = scheduledEventsSchema.safeParse({
      events: [
        { type: 'Reboot', id: 'X' },
        { type: 'Freeze', id: 'x' },
      ],
    });
    assert.equal(result.success, false);
    assert.match(String(result.error?.issues[0]?.message), /duplicate EventId/);
  });
});

describe('scheduled events: first-call delay', () => {
  test('delays the first call and again after 24 hours without one', () => {
    const { clock, events } = setup({ firstCallDelayMs: 1500 });
    assert.equal(events.noteCall(), 1500);
    clock.advance(23 * 60 * MIN);
    assert.equal(events.noteCall(), 0);
    clock.advance(24 * 60 * MIN + 1);
    assert.equal(events.noteCall(), 1500);
  });

  test('never delays by default', () => {
    assert.equal(setup().events.noteCall(), 0);
  });
});

describe('scheduled events: the wire document per api-version', () => {
  function sample() {
    const { clock, events } = setup();
    events.add({ type: 'Freeze', id: 'F', notBefore: '+15m' });
    events.add({ type: 'Preempt', id: 'P', notBefore: '+30s' });
    events.add({ type: 'Terminate', id: 'T', notBefore: '+10m', source: 'User' });
    return { clock, events };
  }

  test('serves 2020-07-01 with every field, in the order real responses list them', () => {
    const { events } = sample();
    const doc = events.document('2020-07-01');
    assert.equal(doc.DocumentIncarnation, 4);
    assert.deepEqual(doc.Events[0], {
      EventId: 'F',
      EventStatus: 'Scheduled',
      EventType: 'Freeze',
      ResourceType: 'VirtualMachine',
      Resources: ['web-01'],
      NotBefore: 'Fri, 01 May 2026 12:15:00 GMT',
      Description: 'Virtual machine is being paused because of a memory-preserving Live Migration operation.',
      EventSource: 'Platform',
      DurationInSeconds: 5,
    });
    assert.deepEqual(Object.keys(doc.Events[0] ?? {}), [
      'EventId',
      'EventStatus',
      'EventType',
      'ResourceType',
      'Resources',
      'NotBefore',
      'Description',
      'EventSource',
      'DurationInSeconds',
    ]);
  });

  test('adds Description in 2019-04-01, EventSource in 2019-08-01, DurationInSeconds in 2020-07-01', () => {
    const { events } = sample();
    const keys = (v: string) => Object.keys(events.document(v).Events[0] ?? {});
    const base = ['EventId', 'EventStatus', 'EventType', 'ResourceType', 'Resources', 'NotBefore'];
    assert.deepEqual(keys('2019-01-01'), base);
    assert.deepEqual(keys('2019-04-01'), [...base, 'Description']);
    assert.deepEqual(keys('2019-08-01'), [...base, 'Description', 'EventSource']);
    assert.deepEqual(keys('2020-07-01'), [...base, 'Description', 'EventSource', 'DurationInSeconds']);
  });

  test('leaves out event types newer than the api-version (Preempt 2017-11-01, Terminate 2019-01-01)', () => {
    const { events } = sample();
    const types = (v: string) => events.document(v).Events.map((e) => e.EventType);
    assert.deepEqual(types('2017-08-01'), ['Freeze']);
    assert.deepEqual(types('2017-11-01'), ['Freeze', 'Preempt']);
    assert.deepEqual(types('2019-01-01'), ['Freeze', 'Preempt', 'Terminate']);
  });

  test('prefixes VM names with an underscore in the 2017-03-01 preview', () => {
    const { events } = sample();
    assert.deepEqual(events.document('2017-03-01').Events[0]?.Resources, ['_web-01']);
    assert.deepEqual(events.document('2017-08-01').Events[0]?.Resources, ['web-01']);
  });

  test('serves NotBefore as "" once the event started', () => {
    const { clock, events } = sample();
    clock.advance(30_000);
    const preempt = events.document('2020-07-01').Events.find((e) => e.EventId === 'P');
    assert.equal(preempt?.EventStatus, 'Started');
    assert.equal(preempt?.NotBefore, '');
  });

  test('serves an empty Events array when there are none', () => {
    assert.deepEqual(eventsDocument([], 7, '2020-07-01'), { DocumentIncarnation: 7, Events: [] });
  });

  test('drops the cached bytes when time changes the document', () => {
    const { clock, events } = sample();
    const before = events.documentBytes('2020-07-01');
    assert.equal(events.documentBytes('2020-07-01'), before);
    clock.advance(30_000);
    const after = events.documentBytes('2020-07-01');
    assert.equal(after.incarnation, before.incarnation + 1);
    assert.match(after.body.toString(), /"EventStatus":"Started"/);
  });
});

describe('NotBefore parsing and formatting', () => {
  test('formats RFC 1123 in GMT with a two-digit day', () => {
    assert.equal(rfc1123(Date.UTC(2022, 7, 9, 17, 7, 32)), 'Tue, 09 Aug 2022 17:07:32 GMT');
  });

  test('reads relative, absolute and "now" values and refuses the rest', () => {
    assert.equal(parseNotBefore('now', T0), T0);
    assert.equal(parseNotBefore('+30s', T0), T0 + 30_000);
    assert.equal(parseNotBefore('-2m', T0), T0 - 2 * MIN);
    assert.equal(parseNotBefore('10m', T0), T0 + 10 * MIN);
    assert.equal(parseNotBefore(new Date(T0), 0), T0);
    assert.equal(parseNotBefore('soon', T0), undefined);
    assert.equal(parseNotBefore('+5x', T0), undefined);
  });
});
