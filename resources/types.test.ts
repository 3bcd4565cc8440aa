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
