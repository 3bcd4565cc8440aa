import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import {
  API_REFERENCE,
  type Schema,
  boundsOf,
  fields,
  readCrds,
  renderApiReference,
  typeOf,
} from './api-reference.js';

test('docs/api.md is what the CRDs generate (run `npm run docs:api` after changing resources/*.crd.yaml)', () => {
  const committed = fs.readFileSync(API_REFERENCE, 'utf8');
  const generated = renderApiReference(readCrds());
  if (committed === generated) return;
  const a = committed.split('\n');
  const b = generated.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  assert.fail(
    `docs/api.md differs from the CRDs from line ${line + 1}:\n  committed: ${a[line]}\n  generated: ${b[line]}\n` +
      'regenerate it with `npm run docs:api`',
  );
});

/** Every property path of a schema, arrays stepped into as `[]`, maps as `<key>`. */
function paths(prefix: string, s: Schema): string[] {
  const own = Object.entries(s.properties ?? {}).flatMap(([k, v]) => [
    prefix + k,
    ...paths(`${prefix}${k}.`, v),
  ]);
  const items = s.items ? paths(prefix.replace(/\.$/, '[].'), s.items) : [];
  const values =
    typeof s.additionalProperties === 'object' ? paths(`${prefix}<key>.`, s.additionalProperties) : [];
  return [...own, ...items, ...values];
}

test('the reference lists every field of spec and status of both CRDs, with its description', () => {
  const page = renderApiReference(readCrds());
  for (const crd of readCrds()) {
    const root = crd.spec.versions[0].schema.openAPIV3Schema;
    for (const top of ['spec', 'status']) {
      const s = root.properties?.[top];
      if (!s) continue;
      const all = paths(`${top}.`, s);
      assert.ok(all.length > 0, `${crd.spec.names.kind}.${top} has fields`);
      for (const p of all) assert.ok(page.includes(`**\`${p}\`**`), `${crd.spec.names.kind}: ${p} is listed`);
    }
  }
  assert.match(page, /\*\*`spec\.secretId`\*\* · string · required {2}\n {2}The secret, as its name/);
  assert.match(
    page,
    /\*\*`spec\.kinds`\*\* · array of string · default `\["Deployment","StatefulSet","DaemonSet"\]`/,
  );
});

test('types and bounds read as a user would write them', () => {
  assert.equal(typeOf({ 'x-kubernetes-int-or-string': true }), 'integer or string');
  assert.equal(typeOf({ type: 'array', items: { type: 'string' } }), 'array of string');
  assert.equal(
    typeOf({ type: 'object', additionalProperties: { type: 'string' } }),
    'map of string to string',
  );
  assert.deepEqual(boundsOf({ type: 'string', minLength: 1, maxLength: 63, enum: ['A', 'B'] }), [
    'one of `A`, `B`',
    'length 1–63',
  ]);
  assert.deepEqual(boundsOf({ type: 'integer', minimum: 1 }), ['value ≥ 1']);
  assert.deepEqual(boundsOf({ type: 'array', maxItems: 8, items: { type: 'string', maxLength: 64 } }), [
    'items ≤ 8',
    'each item: length ≤ 64',
  ]);
  assert.deepEqual(
    boundsOf({ type: 'string', 'x-kubernetes-validations': [{ rule: 'self != ""', message: 'not empty' }] }),
    ['rule: not empty'],
  );
  assert.deepEqual(
    fields('spec', {
      type: 'object',
      properties: { a: { type: 'array', items: { type: 'object', properties: { b: { type: 'boolean' } } } } },
    }),
    ['- **`spec.a`** · array of object', '- **`spec.a[].b`** · boolean'],
  );
});
