import { parse } from 'yaml';
import type { Cached, RawObject } from './informer.js';

/**
 * How workloads consume an AWS secret without reading it themselves: the Secrets Store CSI driver
 * mounting a SecretProviderClass, or a Kubernetes Secret that External Secrets Operator fills from an
 * ExternalSecret. Pure projections and matching; the caches live in consumer-cache.ts.
 */

export const CSI_DRIVER = 'secrets-store.csi.k8s.io';

/** What a pod template reads that may carry the secret: Secrets by name and SecretProviderClasses. */
export interface PodTemplateUses {
  secrets: string[];
  providerClasses: string[];
}

interface RawContainer {
  name?: string;
  env?: { name?: string; valueFrom?: { secretKeyRef?: { name?: string } } }[];
  envFrom?: { prefix?: string; secretRef?: { name?: string } }[];
}

interface RawVolume {
  name?: string;
  secret?: { secretName?: string };
  projected?: { sources?: { secret?: { name?: string } }[] };
  csi?: { driver?: string; volumeAttributes?: Record<string, string> };
}

export interface RawPodTemplate {
  spec?: { containers?: RawContainer[]; initContainers?: RawContainer[]; volumes?: RawVolume[] };
}

const sortedUnique = (names: (string | undefined)[]): string[] =>
  [...new Set(names.filter((n): n is string => Boolean(n)))].sort();

/** The Secrets (env, envFrom, secret and projected volumes) and SecretProviderClasses a pod template uses. Pure. */
export function podTemplateUses(template: RawPodTemplate | undefined): PodTemplateUses {
  const spec = template?.spec ?? {};
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const volumes = spec.volumes ?? [];
  return {
    secrets: sortedUnique([
      ...containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name)),
      ...containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.secretRef?.name)),
      ...volumes.map((v) => v.secret?.secretName),
      ...volumes.flatMap((v) => (v.projected?.sources ?? []).map((s) => s.secret?.name)),
    ]),
    providerClasses: sortedUnique(
      volumes.map((v) =>
        v.csi?.driver === CSI_DRIVER ? v.csi.volumeAttributes?.secretProviderClass : undefined,
      ),
    ),
  };
}

/** An AWS secret as DescribeSecret resolved it: what a reference may name it by. */
export interface SecretNames {
  name: string;
  arn: string;
}

/**
 * True when `ref` (a SecretProviderClass objectName, an ExternalSecret key) names the secret: by
 * name, full ARN, or partial ARN (the full one without its 6-character suffix), as AWS accepts. Pure.
 */
export function namesSecret(ref: string, secret: SecretNames): boolean {
  return ref === secret.name || ref === secret.arn || ref === secret.arn.replace(/-[A-Za-z0-9]{6}$/, '');
}

/** A SecretProviderClass as kept in memory: its provider and the Secrets Manager objects it mounts. */
export interface ProviderClassInfo extends Cached {
  namespace: string;
  name: string;
  provider: string;
  /** Secrets Manager object names (name or ARN) that follow AWSCURRENT. */
  objects: string[];
  /** Kubernetes Secrets the driver syncs from the mount (spec.secretObjects). */
  syncedSecrets: string[];
  /** Why spec.parameters.objects could not be read, if it could not. */
  problem?: string;
}

interface RawProviderClass extends RawObject {
  spec?: {
    provider?: string;
    parameters?: Record<string, string>;
    secretObjects?: { secretName?: string }[];
  };
}

interface AwsObject {
  objectName?: unknown;
  objectType?: unknown;
  objectVersion?: unknown;
  objectVersionLabel?: unknown;
}

/**
 * The Secrets Manager objects of the AWS provider's `objects` parameter (a YAML list in a string).
 * An object pinned to a version or to a label other than AWSCURRENT does not change on rotation, and
 * an SSM parameter is not a secret of ours: neither counts. Pure; throws on text that is not a list.
 */
export function awsSecretObjects(objects: string): string[] {
  const list = parse(objects) as unknown;
  if (!Array.isArray(list)) throw new Error('parameters.objects is not a YAML list');
  return (list as unknown[]).flatMap((o) => (isCurrentSecret(o) ? [o.objectName] : []));
}

/** A Secrets Manager object (an ARN of that service, or objectType secretsmanager, the default). */
const isSecretsManager = (o: AwsObject & { objectName: string }): boolean =>
  o.objectName.startsWith('arn:')
    ? o.objectName.includes(':secretsmanager:')
    : (o.objectType ?? 'secretsmanager') === 'secretsmanager';

/** Not pinned to a version, nor to a label other than AWSCURRENT. */
const followsCurrentObject = (o: AwsObject): boolean =>
  (o.objectVersion === undefined || o.objectVersion === '') &&
  (o.objectVersionLabel === undefined || o.objectVersionLabel === 'AWSCURRENT');

function isCurrentSecret(o: unknown): o is AwsObject & { objectName: string } {
  if (typeof o !== 'object' || o === null) return false;
  const obj = o as AwsObject;
  return (
    typeof obj.objectName === 'string' &&
    isSecretsManager(obj as AwsObject & { objectName: string }) &&
    followsCurrentObject(obj)
  );
}

/** The identity fields every projection starts with. */
function identity(raw: RawObject): Cached & { namespace: string; name: string } {
  const namespace = raw.metadata?.namespace ?? '';
  const name = raw.metadata?.name ?? '';
  return { key: `${namespace}/${name}`, resourceVersion: raw.metadata?.resourceVersion, namespace, name };
}

/** The pruned projection of a SecretProviderClass. Pure. */
export function projectProviderClass(raw: RawProviderClass): ProviderClassInfo {
  const spec = raw.spec ?? {};
  const base = {
    ...identity(raw),
    provider: spec.provider ?? '',
    syncedSecrets: sortedUnique((spec.secretObjects ?? []).map((s) => s.secretName)),
  };
  if (base.provider !== 'aws') return { ...base, objects: [] };
  try {
    return { ...base, objects: awsSecretObjects(spec.parameters?.objects ?? '[]') };
  } catch (err) {
    return { ...base, objects: [], problem: (err as Error).message };
  }
}

/** An ExternalSecret as kept in memory: the keys it reads, its target Secret and how its sync stands. */
export interface ExternalSecretInfo extends Cached {
  namespace: string;
  name: string;
  /** The Secret it writes: spec.target.name, default its own name. */
  target: string;
  /** Remote keys that follow the current version (data[].remoteRef.key, dataFrom[].extract.key). */
  keys: string[];
  ready: boolean;
  /** status.refreshTime: when its last successful sync started (second precision). */
  refreshTime?: string;
  /** Our trigger annotation's current value. */
  forceSync?: string;
  /** Why a force-sync cannot make it refresh (refreshPolicy CreatedOnce, refreshInterval 0). */
  noRefresh?: string;
}

export const FORCE_SYNC_ANNOTATION = 'force-sync';

interface RawRemoteRef {
  key?: string;
  version?: string;
}

interface RawExternalSecret extends RawObject {
  metadata?: RawObject['metadata'] & { annotations?: Record<string, string> };
  spec?: {
    refreshInterval?: string;
    refreshPolicy?: string;
    target?: { name?: string };
    data?: { remoteRef?: RawRemoteRef }[];
    dataFrom?: { extract?: RawRemoteRef }[];
  };
  status?: { refreshTime?: string | null; conditions?: { type?: string; status?: string }[] };
}

/** A reference that reads the current value (no version, or AWSCURRENT). */
const followsCurrent = (ref: RawRemoteRef | undefined): ref is RawRemoteRef & { key: string } =>
  Boolean(ref?.key) && (ref?.version === undefined || ref.version === '' || ref.version === 'AWSCURRENT');

/** Why ESO would ignore a force-sync of this ExternalSecret (see its shouldRefresh), if it would. */
function noRefresh(spec: RawExternalSecret['spec']): string | undefined {
  if (spec?.refreshPolicy === 'CreatedOnce') return 'refreshPolicy CreatedOnce: it never syncs again';
  if (spec?.refreshPolicy === 'OnChange') return undefined;
  if (spec?.refreshInterval !== undefined && /^0+(ms|s|m|h)?$/.test(spec.refreshInterval))
    return `refreshInterval ${spec.refreshInterval}: it never syncs again`;
  return undefined;
}

/** The remote keys an ExternalSecret reads at their current version. */
function currentKeys(spec: NonNullable<RawExternalSecret['spec']>): string[] {
  const refs = [...(spec.data ?? []).map((d) => d.remoteRef), ...(spec.dataFrom ?? []).map((d) => d.extract)];
  return sortedUnique(refs.filter(followsCurrent).map((r) => r.key));
}

/** The pruned projection of an ExternalSecret. Pure. */
export function projectExternalSecret(raw: RawExternalSecret): ExternalSecretInfo {
  const id = identity(raw);
  const spec = raw.spec ?? {};
  const status = raw.status ?? {};
  return {
    ...id,
    target: spec.target?.name || id.name,
    keys: currentKeys(spec),
    ready: (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    refreshTime: status.refreshTime ?? undefined,
    forceSync: raw.metadata?.annotations?.[FORCE_SYNC_ANNOTATION],
    noRefresh: noRefresh(spec),
  };
}

/** How one workload consumes the secret, besides the mapping's selector and list. */
export interface Consumption {
  /** e.g. ["ExternalSecret/db", "SecretProviderClass/db-csi"], sorted. */
  via: string[];
  /** ExternalSecrets whose Secret it reads: its restart waits for their sync. */
  externalSecrets: string[];
}

/** A workload as consumption matching needs it. */
export interface Consumer {
  kind: string;
  name: string;
  uses: PodTemplateUses;
}

/** The SecretProviderClasses and ExternalSecrets of a namespace that carry the secret. */
export interface Carriers {
  providerClasses: ProviderClassInfo[];
  externalSecrets: ExternalSecretInfo[];
}

/** Which SecretProviderClasses and ExternalSecrets name `secret`. Pure. */
export function carriersOf(
  secret: SecretNames,
  providerClasses: Iterable<ProviderClassInfo>,
  externalSecrets: Iterable<ExternalSecretInfo>,
): Carriers {
  return {
    providerClasses: [...providerClasses].filter((p) => p.objects.some((o) => namesSecret(o, secret))),
    externalSecrets: [...externalSecrets].filter((e) => e.keys.some((k) => namesSecret(k, secret))),
  };
}

/** What a pod template must use to consume the secret through its carriers. Pure. */
export function carriedNames(c: Carriers): PodTemplateUses {
  return {
    secrets: sortedUnique([
      ...c.externalSecrets.map((e) => e.target),
      ...c.providerClasses.flatMap((p) => p.syncedSecrets),
    ]),
    providerClasses: sortedUnique(c.providerClasses.map((p) => p.name)),
  };
}

/** Whether a pod template uses any of these names. Pure. */
export const usesAny = (uses: PodTemplateUses, names: PodTemplateUses): boolean =>
  uses.secrets.some((s) => names.secrets.includes(s)) ||
  uses.providerClasses.some((p) => names.providerClasses.includes(p));

/** Which of `workloads` consume the secret through its carriers, and how; keyed `kind/name`. Pure. */
export function consumersOf(c: Carriers, workloads: Iterable<Consumer>): Map<string, Consumption> {
  const out = new Map<string, Consumption>();
  for (const w of workloads) {
    const viaSpc = c.providerClasses.filter(
      (p) =>
        w.uses.providerClasses.includes(p.name) || p.syncedSecrets.some((s) => w.uses.secrets.includes(s)),
    );
    const viaEs = c.externalSecrets.filter((e) => w.uses.secrets.includes(e.target));
    if (!viaSpc.length && !viaEs.length) continue;
    out.set(`${w.kind}/${w.name}`, {
      via: [
        ...viaEs.map((e) => `ExternalSecret/${e.name}`),
        ...viaSpc.map((p) => `SecretProviderClass/${p.name}`),
      ].sort(),
      externalSecrets: viaEs.map((e) => e.name).sort(),
    });
  }
  return out;
}
