/*
 * Probes of the admission guard, generated from a live object rather than picked by hand: one change
 * of every field the object has (each value changed, each key removed, a key added to each map),
 * plus the fields it lacks that a tenant's pods would feel (template finalizers, owner references,
 * name, generateName…). The test sends each as the cluster admin first (dry run): a change the API
 * server refuses or ignores there is no question for the guard and is dropped; every other one must
 * be refused when the operator's ServiceAccount sends it.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** One change to one field: a JSON patch, and the same as a merge patch where the path has no array. */
export interface Probe {
  what: string;
  path: string;
  patches: { type: 'json' | 'merge'; body: object }[];
}

/** The fields a metadata (the workload's, or its pod template's) lacks that a probe adds. */
const METADATA_ADDITIONS: Record<string, Json> = {
  finalizers: ['probe.example/hold'],
  ownerReferences: [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'probe', uid: '6d4b2c3a-0000-4000-8000-000000000001' },
  ],
  name: 'probe',
  generateName: 'probe-',
  namespace: 'probe',
  labels: { 'probe.example/x': 'probe' },
  annotations: { 'probe.example/x': 'probe' },
  deletionGracePeriodSeconds: 5,
};

/** Spec fields some kind has and the fixtures leave unset; a kind without one ignores it (dropped). */
const SPEC_ADDITIONS: Record<string, Json> = {
  paused: true,
  minReadySeconds: 30,
  progressDeadlineAbort: true,
  rollbackWindow: { revisions: 1 },
  ordinals: { start: 5 },
  persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
  // A field no schema knows: typed kinds drop it, a CRD preserving unknown fields keeps it.
  probeField: 'probe',
};

const POD_SPEC_ADDITIONS: Record<string, Json> = {
  hostPID: true,
  nodeName: 'probe',
  priority: 1,
  automountServiceAccountToken: true,
};

const escape = (key: string | number): string => String(key).replace(/~/g, '~0').replace(/\//g, '~1');
const pointer = (path: Path): string => `/${path.map(escape).join('/')}`;
const isMap = (v: Json): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A different value of the same type (strings get a suffix: a valid image, name or label value). */
function changed(v: Json): Json | undefined {
  if (typeof v === 'string') return `${v}x`;
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'boolean') return !v;
  return undefined;
}

/** The merge patch setting `path` to `value` (null removes), when no array is on the way. */
function mergePatch(path: Path, value: Json): object | undefined {
  if (path.some((p) => typeof p === 'number')) return undefined;
  return path.reduceRight<Json>((inner, key) => ({ [key]: inner }), value) as object;
}

function probe(what: string, path: Path, op: 'add' | 'replace' | 'remove', value?: Json): Probe {
  const json = op === 'remove' ? { op, path: pointer(path) } : { op, path: pointer(path), value };
  const merge = mergePatch(path, op === 'remove' ? null : (value ?? null));
  return {
    what: `${what} ${pointer(path)}`,
    path: pointer(path),
    patches: [{ type: 'json', body: [json] }, ...(merge ? [{ type: 'merge' as const, body: merge }] : [])],
  };
}

/** Exempt: the path, or a map holding only exempt fields (removing our annotations' map is allowed). */
function exemptNode(node: Json, path: Path, exempt: (path: string) => boolean): boolean {
  if (exempt(pointer(path))) return true;
  const keys = isMap(node) ? Object.keys(node) : [];
  return (
    keys.length > 0 && keys.every((k) => exemptNode((node as Record<string, Json>)[k], [...path, k], exempt))
  );
}

/** Probes of the node at `path` and everything under it; `exempt` paths (the restart fields) are skipped. */
function walk(node: Json, path: Path, exempt: (path: string) => boolean): Probe[] {
  if (exempt(pointer(path))) return [];
  const out: Probe[] = [];
  const next = changed(node);
  if (next !== undefined) out.push(probe('change', path, 'replace', next));
  if (Array.isArray(node)) {
    node.forEach((child, i) => out.push(...walk(child, [...path, i], exempt)));
    out.push(probe('append to', [...path, '-'], 'add', node[node.length - 1] ?? 'probe'));
  } else if (isMap(node)) {
    const keys = Object.keys(node);
    for (const key of keys) {
      out.push(...walk(node[key], [...path, key], exempt));
      if (!exemptNode(node[key], [...path, key], exempt)) out.push(probe('remove', [...path, key], 'remove'));
    }
    out.push(probe('add a key to', [...path, 'probe.example/x'], 'add', 'probe'));
    out.push(...additions(node, path));
  }
  return out;
}

/** The absent fields of `node` that its place in the object calls for (metadata, spec, pod spec). */
function additions(node: { [key: string]: Json }, path: Path): Probe[] {
  const at = pointer(path);
  const table = at.endsWith('/metadata')
    ? METADATA_ADDITIONS
    : at === '/spec'
      ? SPEC_ADDITIONS
      : at === '/spec/template/spec'
        ? POD_SPEC_ADDITIONS
        : {};
  return Object.entries(table)
    .filter(([key]) => !(key in node))
    .map(([key, value]) => probe('add', [...path, key], 'add', value));
}

/**
 * Every probe of `object`: its metadata, spec and any other top-level field (status, and whatever a
 * later version adds) — all but `exempt` paths (JSON pointers) and the server's own bookkeeping.
 */
export function probesOf(object: { [key: string]: Json }, exempt: (path: string) => boolean): Probe[] {
  const skip = (p: string): boolean =>
    exempt(p) || ['/apiVersion', '/kind', '/metadata/managedFields', '/metadata/resourceVersion'].includes(p);
  return Object.keys(object).flatMap((key) => {
    const children = walk(object[key], [key], skip);
    // The root maps themselves are not removed or replaced (no such object exists), only what is in them.
    return children.filter((p) => p.path !== `/${key}` && p.path !== `/${key}/-`);
  });
}

/** `object` without what every write changes (bookkeeping and status): two equal mean a no-op. */
export function essence(object: { [key: string]: Json }): Json {
  const copy = structuredClone(object);
  const metadata = copy.metadata as { [key: string]: Json };
  for (const key of ['managedFields', 'resourceVersion', 'generation']) delete metadata[key];
  delete copy.status;
  return copy;
}
