import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../e2e/env/paths.js';
import {
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  WORKLOAD_KINDS,
  specFields,
  statusFields,
  workloadStatusFields,
} from './types.js';
import { POLICY_KIND, POLICY_PLURAL, policySpecFields, policyStatusFields } from './policy-types.js';

interface Schema {
  properties?: Record<string, Schema>;
  items?: Schema;
  description?: string;
  enum?: string[];
}

const crd = parse(
  fs.readFileSync(path.join(repoRoot, 'resources', 'secretsrotationmapping.crd.yaml'), 'utf8'),
) as {
  spec: {
    group: string;
    names: { kind: string; plural: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
};
const root = crd.spec.versions[0].schema.openAPIV3Schema;
const keys = (s: Schema | undefined): string[] => Object.keys(s?.properties ?? {}).sort();
/** The schema at a path of property names (`items` steps into an array's items). */
const at = (...path: string[]): Schema | undefined =>
  path.reduce<Schema | undefined>((s, k) => (k === 'items' ? s?.items : s?.properties?.[k]), root);

test('the TypeScript types name exactly the fields of the CRD schema', () => {
  assert.equal(crd.spec.group, GROUP);
  assert.equal(crd.spec.names.kind, KIND);
  assert.equal(crd.spec.names.plural, PLURAL);
  assert.equal(crd.spec.versions[0].name, VERSION);
  assert.deepEqual(keys(at('spec')), Object.keys(specFields).sort());
  assert.deepEqual(keys(at('status')), Object.keys(statusFields).sort());
  assert.deepEqual(keys(at('status', 'workloads', 'items')), Object.keys(workloadStatusFields).sort());
  assert.deepEqual(at('spec', 'workloads', 'items', 'kind')?.enum, [...WORKLOAD_KINDS]);
});

test('every spec and status field has a description, so kubectl explain teaches the API', () => {
  const missing: string[] = [];
  const walk = (s: Schema, at: string): void => {
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      if (at && !v.description) missing.push(`${at}.${k}`);
      walk(v, `${at}.${k}`);
    }
    if (s.items) walk(s.items, `${at}[]`);
  };
  walk(root.properties?.spec ?? {}, 'spec');
  walk(root.properties?.status ?? {}, 'status');
  assert.deepEqual(missing, []);
});

interface Bounded extends Schema {
  type?: string;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  format?: string;
  additionalProperties?: Bounded;
}

/** The bound a schema node lacks, if any: maxLength (strings without enum or date-time format), maxItems, maxProperties. */
function missingBound(s: Bounded): string | undefined {
  if (s.type === 'string' && s.maxLength === undefined && !s.enum && s.format !== 'date-time') return '';
  if (s.type === 'array' && s.maxItems === undefined) return '[]';
  if (s.additionalProperties && s.maxProperties === undefined) return '{}';
  return undefined;
}

/** Paths of every unbounded string, list and map under `s`. */
function unbounded(s: Bounded, at: string): string[] {
  const own = missingBound(s);
  const children: [string, Bounded | undefined][] = [
    ...Object.entries(s.properties ?? {}).map(([k, v]): [string, Bounded] => [`${at}.${k}`, v]),
    [`${at}[]`, s.items],
    [`${at}{}`, s.additionalProperties],
  ];
  return [
    ...(own === undefined ? [] : [`${at}${own}`]),
    ...children.flatMap(([p, c]) => (c ? unbounded(c, p) : [])),
  ];
}

test('every string, list and map in both CRDs is bounded, so CEL rules stay within their cost budget', () => {
  for (const file of ['secretsrotationmapping.crd.yaml', 'secretsrotationpolicy.crd.yaml']) {
    const doc = parse(fs.readFileSync(path.join(repoRoot, 'resources', file), 'utf8')) as typeof crd;
    assert.deepEqual(unbounded(doc.spec.versions[0].schema.openAPIV3Schema as Bounded, ''), [], file);
  }
});

test('the policy types name exactly the fields of its CRD schema', () => {
  const doc = parse(
    fs.readFileSync(path.join(repoRoot, 'resources', 'secretsrotationpolicy.crd.yaml'), 'utf8'),
  ) as typeof crd;
  const schema = doc.spec.versions[0].schema.openAPIV3Schema;
  assert.equal(doc.spec.names.kind, POLICY_KIND);
  assert.equal(doc.spec.names.plural, POLICY_PLURAL);
  assert.deepEqual(keys(schema.properties?.spec), Object.keys(policySpecFields).sort());
  assert.deepEqual(keys(schema.properties?.status), Object.keys(policyStatusFields).sort());
});
