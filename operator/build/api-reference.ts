import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../e2e/env/paths.js';

/** The part of an OpenAPI v3 schema (as a CRD carries it) the reference renders. */
export interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

/** A CustomResourceDefinition, as far as the reference reads it. */
export interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[] };
    versions: {
      name: string;
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

/** The CRDs the reference documents, in page order. */
export const CRD_FILES = ['secretsrotationmapping.crd.yaml', 'secretsrotationpolicy.crd.yaml'];
/** The committed page; `npm run docs:api` rewrites it, a unit test compares it. */
export const API_REFERENCE = path.join(repoRoot, 'docs', 'api.md');

/** Reads the CRDs from resources/, the single source of truth of the API. */
export function readCrds(): Crd[] {
  return CRD_FILES.map((f) => parse(fs.readFileSync(path.join(repoRoot, 'resources', f), 'utf8')) as Crd);
}

const code = (v: unknown): string => '`' + (typeof v === 'string' ? v : JSON.stringify(v)) + '`';
/** A description as Markdown text: one line, its `*`, `_`, `<` and `\\` literal (globs, not emphasis). */
const prose = (s: string): string =>
  s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\*_<]/g, (c) => '\\' + c);

/** The type as a reader says it: `array of string`, `map of string to integer`, `integer or string`. */
export function typeOf(s: Schema): string {
  if (s['x-kubernetes-int-or-string']) return 'integer or string';
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object' && !s.properties) {
    return `map of string to ${typeOf(s.additionalProperties)}`;
  }
  if (s['x-kubernetes-preserve-unknown-fields'] && !s.type) return 'any';
  return s.type ?? 'any';
}

const range = (what: string, min?: number, max?: number): string | undefined => {
  if (min === undefined && max === undefined) return undefined;
  if (min !== undefined && max !== undefined) return min === max ? `${what} ${min}` : `${what} ${min}–${max}`;
  return min !== undefined ? `${what} ≥ ${min}` : `${what} ≤ ${max}`;
};

/** Every bound the schema states on this node: enum, ranges, pattern, format, list semantics, CEL rules. */
export function boundsOf(s: Schema): string[] {
  const listKeys = s['x-kubernetes-list-map-keys'];
  return [
    s.enum && `one of ${s.enum.map(code).join(', ')}`,
    range('length', s.minLength, s.maxLength),
    range('value', s.minimum, s.maximum),
    range('items', s.minItems, s.maxItems),
    range('entries', s.minProperties, s.maxProperties),
    s.format && `format ${code(s.format)}`,
    s.pattern && `pattern ${code(s.pattern)}`,
    s['x-kubernetes-list-type'] &&
      `list type ${code(s['x-kubernetes-list-type'])}${listKeys ? ` keyed by ${listKeys.map(code).join(', ')}` : ''}`,
    ...(s['x-kubernetes-validations'] ?? []).map((v) => `rule: ${v.message ?? code(v.rule)}`),
    ...elementBounds(s),
  ].filter((b): b is string => typeof b === 'string');
}

/** A list's scalar items or a map's scalar values: they have no entry of their own. */
function scalarElement(s: Schema): ['item' | 'value', Schema] | undefined {
  if (s.type === 'array' && s.items && !s.items.properties) return ['item', s.items];
  const values = s.additionalProperties;
  return typeof values === 'object' && !values.properties ? ['value', values] : undefined;
}

/** The bounds of those elements, as one more bound of the field that holds them. */
function elementBounds(s: Schema): string[] {
  const element = scalarElement(s);
  const bounds = element ? boundsOf(element[1]) : [];
  return element && bounds.length > 0 ? [`each ${element[0]}: ${bounds.join(', ')}`] : [];
}

/** One field as a list item: path, type, required, default, bounds, description. */
function field(name: string, s: Schema, required: boolean): string[] {
  const head = [`**${code(name)}**`, typeOf(s), ...(required ? ['required'] : [])];
  if (s.default !== undefined) head.push(`default ${code(s.default)}`);
  const lines = [`- ${head.join(' · ')}`];
  if (s.description) lines.push(`  ${prose(s.description)}`);
  const bounds = boundsOf(s);
  if (bounds.length > 0) lines.push(`  Bounds: ${bounds.join('; ')}.`);
  return lines.length > 1
    ? [lines[0] + '  ', ...lines.slice(1, -1).map((l) => l + '  '), lines.at(-1)!]
    : lines;
}

/** The schema's children: named properties, an array's items (`[]`), a map's values (`<key>`). */
function children(s: Schema): [string, Schema, boolean][] {
  if (s.type === 'array' && s.items && (s.items.properties || s.items.items)) return [['[]', s.items, false]];
  if (typeof s.additionalProperties === 'object' && s.additionalProperties.properties) {
    return [['.<key>', s.additionalProperties, false]];
  }
  const req = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {}).map(([k, v]) => ['.' + k, v, req.has(k)]);
}

/** Depth first, in the schema's order: every field under `prefix`, one list item each. */
export function fields(prefix: string, s: Schema): string[] {
  return children(s).flatMap(([step, child, required]) => {
    const name = prefix + step;
    const own = step === '[]' ? [] : field(name.replace(/^\./, ''), child, required);
    return [...own, ...fields(name, child)];
  });
}

function printerColumns(v: Crd['spec']['versions'][number]): string[] {
  const cols = v.additionalPrinterColumns ?? [];
  if (cols.length === 0) return [];
  return [
    '`kubectl get` columns (`-o wide` adds those of priority 1):',
    '',
    ...cols.map(
      (c) => `- ${c.name} (${c.type}${c.priority ? ', priority ' + c.priority : ''}): ${code(c.jsonPath)}`,
    ),
    '',
  ];
}

/** One CRD's section: identity, description, printer columns, then spec and status field by field. */
export function renderCrd(crd: Crd): string[] {
  const { group, scope, names } = crd.spec;
  return crd.spec.versions.flatMap((v) => {
    const root = v.schema.openAPIV3Schema;
    const identity = [
      `API version ${code(`${group}/${v.name}`)}`,
      `${scope === 'Cluster' ? 'cluster-scoped' : 'namespaced'}`,
      `plural ${code(names.plural)}`,
      ...(names.shortNames?.length ? [`short name ${names.shortNames.map(code).join(', ')}`] : []),
    ];
    const sections = ['spec', 'status'].flatMap((top) => {
      const s = root.properties?.[top];
      if (!s) return [];
      return [
        `### ${code(top)}`,
        '',
        ...field(top, s, (root.required ?? []).includes(top)),
        ...fields(top, s),
        '',
      ];
    });
    return [
      `## ${names.kind}`,
      '',
      identity.join(' · ') + '.',
      '',
      ...(root.description ? [prose(root.description), ''] : []),
      ...printerColumns(v),
      ...sections,
    ];
  });
}

/** The whole page: a pure function of the CRDs, so the committed page can be checked against it. */
export function renderApiReference(crds: Crd[]): string {
  return [
    '# API reference',
    '',
    '<!-- Generated from resources/*.crd.yaml by `npm run docs:api` (operator/build/api-reference.ts). Do not edit:',
    '     change the CRDs and regenerate; a unit test fails when this page and the CRDs differ. -->',
    '',
    'Every field of the two custom resources, from their OpenAPI schemas: its type, whether it is required,',
    'its default, the bounds the API server enforces at `kubectl apply` (lengths, ranges, patterns and the',
    'CEL rules, by their messages) and its description. The [mapping and policy API](mapping.md) shows',
    'them in use; `kubectl explain srm.spec` and `kubectl explain srpol.spec` print the same descriptions.',
    '',
    ...crds.flatMap(renderCrd),
  ]
    .join('\n')
    .replace(/\n+$/, '\n');
}
