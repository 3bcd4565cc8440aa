import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Namespace,
} from '@kubernetes/client-node';
import { POLICY_PLURAL, type Policy } from '../../resources/policy-types.js';
import { GROUP, PLURAL, VERSION, type Mapping } from '../../resources/types.js';
import type { ResourceRef } from '../kube/informer.js';
import { statusCode } from '../runtime/errors.js';
import { UsageError } from './args.js';

/** A failure of the API server (refused, missing, unreachable): exit code 3, with kubectl's wording. */
export class ApiError extends Error {
  override name = 'ApiError';
}

type Ref = Omit<ResourceRef, 'namespace'>;
const MAPPINGS: Ref = { group: GROUP, version: VERSION, plural: PLURAL };
const POLICIES: Ref = { group: GROUP, version: VERSION, plural: POLICY_PLURAL };

/**
 * The kubeconfig as kubectl reads it: --kubeconfig, else $KUBECONFIG (a list of files), else
 * ~/.kube/config, else in-cluster; --context picks a context other than the current one.
 */
export function loadConfig(opts: { kubeconfig?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === opts.context))
      throw new UsageError(`context "${opts.context}" does not exist in the kubeconfig`);
    kc.setCurrentContext(opts.context);
  }
  return kc;
}

/** The namespace of the kubeconfig's current context, as kubectl defaults to it. */
export const contextNamespace = (kc: KubeConfig): string =>
  kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';

const isForbidden = (err: unknown): boolean => statusCode(err) === 403;

/** The server's own message of an API error (client-node puts the Status object in `body`). */
function serverMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    if (status?.message) return status.message;
  } catch {
    // not JSON: the error's own message below
  }
  return (err as Error).message;
}

/** Reads and the one write the plugin makes; every answer is the API server's JSON, unconverted. */
export class Cluster {
  private readonly api: CustomObjectsApi;

  constructor(readonly kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  /** Every object of `ref` in `namespace`, or cluster-wide without one. Throws ApiError. */
  async list<T>(ref: Ref, namespace?: string): Promise<T[]> {
    try {
      const common = { group: ref.group, version: ref.version, plural: ref.plural };
      const answer = (await (namespace
        ? this.api.listNamespacedCustomObject({ ...common, namespace })
        : this.api.listClusterCustomObject(common))) as { items?: T[] };
      return answer.items ?? [];
    } catch (err) {
      throw apiError(err, `list ${ref.plural}${namespace ? ` in namespace ${namespace}` : ''}`);
    }
  }

  /** Like list, but an API this cluster does not serve (404) or that the user may not read (403) is undefined. */
  async listIfReadable<T>(ref: Ref, namespace?: string): Promise<T[] | undefined> {
    try {
      return await this.list<T>(ref, namespace);
    } catch (err) {
      const code = statusCode((err as Error).cause);
      if (code === 404 || code === 403) return undefined;
      throw err;
    }
  }

  mappings(namespace?: string): Promise<Mapping[]> {
    return this.list<Mapping>(MAPPINGS, namespace);
  }

  /** The SecretsRotationPolicies, or undefined when the user may not list them. */
  policies(): Promise<Policy[] | undefined> {
    return this.listIfReadable<Policy>(POLICIES);
  }

  /** The namespaces' names and labels, or undefined when the user may not list them. */
  async namespaces(): Promise<V1Namespace[] | undefined> {
    try {
      return (await this.kc.makeApiClient(CoreV1Api).listNamespace()).items;
    } catch (err) {
      if (isForbidden(err)) return undefined;
      throw apiError(err, 'list namespaces');
    }
  }

  async mapping(namespace: string, name: string): Promise<Mapping> {
    try {
      return (await this.api.getNamespacedCustomObject({ ...MAPPINGS, namespace, name })) as Mapping;
    } catch (err) {
      throw apiError(err, `get secretsrotationmapping ${name} in namespace ${namespace}`);
    }
  }

  /**
   * Merge-patches the mapping's annotations, conditioned on the resourceVersion read (a mapping
   * changed since is a 409, not a blind write).
   */
  async annotate(m: Mapping, annotations: Record<string, string>): Promise<Mapping> {
    const { namespace, name, resourceVersion } = m.metadata;
    try {
      return (await this.api.patchNamespacedCustomObject(
        {
          ...MAPPINGS,
          namespace,
          name,
          body: { metadata: { resourceVersion, annotations } },
          fieldManager: 'kubectl-secretsrotation',
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as Mapping;
    } catch (err) {
      throw apiError(err, `patch secretsrotationmapping ${name} in namespace ${namespace}`);
    }
  }
}

function apiError(err: unknown, what: string): ApiError {
  const code = statusCode(err);
  const why = code === undefined ? (err as Error).message : `${serverMessage(err)} (HTTP ${code})`;
  return new ApiError(`cannot ${what}: ${why}`, { cause: err });
}

/** Whether an ApiError was the server's 403. */
export const forbidden = (err: unknown): boolean => err instanceof ApiError && isForbidden(err.cause);
