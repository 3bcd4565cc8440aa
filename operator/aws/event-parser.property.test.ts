import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property-runs.js';
import { parseMessage, type ParsedMessage } from './event-parser.js';
import { fixtureNames, loadFixture } from './fixtures/index.js';

/**
 * parseMessage against whatever a queue may hold: any string, any JSON value, the fixtures with any
 * field replaced by any JSON value. It never throws; what it cannot use is 'malformed' (the poller
 * dead-letters it); a well-formed value-change event comes back as it was written.
 */

/** The shape every answer has, whatever the body. */
function checkShape(m: ParsedMessage): void {
  assert.ok(['candidate', 'ignored', 'malformed'].includes(m.kind), JSON.stringify(m));
  assert.ok(typeof m.reason === 'string' && m.reason.length > 0);
  if (m.kind !== 'malformed') assert.equal(typeof m.eventKind, 'string');
  if (m.kind === 'candidate') checkCandidate(m);
}

/** A candidate names its secret, version and aliases by non-empty strings; its time is a time. */
function checkCandidate(m: Extract<ParsedMessage, { kind: 'candidate' }>): void {
  assert.ok(typeof m.secretId === 'string' && m.secretId.length > 0, JSON.stringify(m));
  if (m.versionId !== undefined) assert.ok(typeof m.versionId === 'string' && m.versionId.length > 0);
  if (m.occurredAt !== undefined) assert.ok(Number.isFinite(m.occurredAt));
  for (const a of m.aliases ?? []) assert.ok(typeof a === 'string' && a.length > 0 && a !== m.secretId);
}

const parse = (body: string): ParsedMessage => {
  const m = parseMessage(body);
  checkShape(m);
  return m;
};

/** Any JSON value, deep ones included. */
const jsonArb = fc.jsonValue({ maxDepth: 6 });

test('property: any string is answered, never thrown at; what is not a JSON object is malformed', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (body) => {
      const m = parse(body);
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return assert.equal(m.kind, 'malformed');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        assert.equal(m.kind, 'malformed');
    }),
    runs(3201, 2000),
  );
});

test('property: deep nesting and huge strings are answered, never thrown at', () => {
  const deep = fc.record({
    depth: fc.integer({ min: 1, max: 200_000 }),
    open: fc.constantFrom('[', '{"detail":'),
    inner: fc.constantFrom('1', '"x"', '{}', '[]'),
  });
  fc.assert(
    fc.property(deep, fc.integer({ min: 0, max: 1_000_000 }), ({ depth, open, inner }, size) => {
      const close = open === '[' ? ']' : '}';
      assert.equal(parse(`${open.repeat(depth)}${inner}${close.repeat(depth)}`).kind, 'malformed');
      const event = { source: 'x'.repeat(size), 'detail-type': 'y'.repeat(size), detail: {} };
      assert.equal(parse(JSON.stringify(event)).kind, 'malformed');
    }),
    runs(3202, 30),
  );
});

/** Every path to a field of a JSON value (objects and arrays), the value itself first. */
function paths(v: unknown, at: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [at];
  return [at, ...Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => paths(x, [...at, k]))];
}

function replaced(v: unknown, path: string[], by: unknown): unknown {
  if (!path.length) return by;
  const copy = (Array.isArray(v) ? [...(v as unknown[])] : { ...(v as object) }) as Record<string, unknown>;
  copy[path[0]] = replaced(copy[path[0]], path.slice(1), by);
  return copy;
}

const fixtures = fixtureNames().map((name) => JSON.parse(loadFixture(name)) as unknown);

test('property: a fixture with any field replaced by any JSON value (wrong types) is answered, never thrown at', () => {
  const mutation = fc.record({
    fixture: fc.nat(fixtures.length - 1),
    pick: fc.nat(),
    by: fc.oneof(jsonArb, fc.constant(undefined)),
    sns: fc.boolean(),
  });
  fc.assert(
    fc.property(mutation, ({ fixture, pick, by, sns }) => {
      const all = paths(fixtures[fixture]);
      const event = replaced(fixtures[fixture], all[pick % all.length], by);
      const body = JSON.stringify(event) ?? 'undefined';
      parse(sns ? JSON.stringify({ Type: 'Notification', Message: body }) : body);
    }),
    runs(3203, 3000),
  );
});

test('property: an object without a string source, detail-type and an object detail is malformed', () => {
  const notEvent = fc.dictionary(fc.string(), jsonArb).filter((o) => {
    const isObj = typeof o.detail === 'object' && o.detail !== null && !Array.isArray(o.detail);
    const s = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
    return !(s(o.source) && s(o['detail-type']) && isObj) && o.Type !== 'Notification';
  });
  fc.assert(
    fc.property(notEvent, fc.boolean(), (o, sns) => {
      const body = JSON.stringify(o);
      assert.equal(
        parse(sns ? JSON.stringify({ Type: 'Notification', Message: body }) : body).kind,
        'malformed',
      );
    }),
    runs(3204, 1000),
  );
});

/** Non-empty text a secret id, a version or a name may hold (any characters). */
const textArb = fc.string({ minLength: 1, maxLength: 40 });

test('property: a well-formed value-change event comes back as written (EventBridge, or inside SNS)', () => {
  const change = fc.record({
    eventName: fc.constantFrom('PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'CreateSecret'),
    secretId: textArb,
    versionId: textArb,
    seconds: fc.integer({ min: 0, max: 4_102_444_800 }),
    sns: fc.boolean(),
  });
  fc.assert(
    fc.property(change, ({ eventName, secretId, versionId, seconds, sns }) => {
      const time = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
      const stage = eventName === 'UpdateSecretVersionStage';
      const event = {
        source: 'aws.secretsmanager',
        'detail-type': 'AWS API Call via CloudTrail',
        time,
        detail: {
          eventSource: 'secretsmanager.amazonaws.com',
          eventName,
          requestParameters: stage
            ? { secretId, versionStage: 'AWSCURRENT', moveToVersionId: versionId }
            : { secretId },
          responseElements: stage ? {} : { versionId },
        },
      };
      const body = JSON.stringify(event);
      const m = parse(sns ? JSON.stringify({ Type: 'Notification', Message: body }) : body);
      assert.deepEqual(m.kind === 'candidate' && [m.secretId, m.versionId, m.eventKind, m.occurredAt], [
        secretId,
        versionId,
        eventName,
        seconds * 1000,
      ]);
    }),
    runs(3205, 1000),
  );
});
