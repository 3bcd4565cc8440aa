import type { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { POLICY_PLURAL, type Policy } from '../../resources/policy-types.js';
import { GROUP, VERSION } from '../../resources/types.js';
import type { Logger } from '../runtime/logger.js';
import {
  compilePolicy,
  decide,
  decideRevert,
  governs,
  type CompiledPolicy,
  type DefaultPolicy,
  type ResolvedSecret,
  type Verdict,
} from '../tenancy/policy-decision.js';
import { Informer, listPage, watchPath, type Cached } from './informer.js';

interface CachedPolicy extends Cached {
  compiled: CompiledPolicy;
  generation?: number;
  status: Policy['status'];
}

interface CachedNamespace extends Cached {
  labels: Record<string, string>;
}

export interface TenancyCacheOptions {
  kubeConfig: KubeConfig;
  api: CustomObjectsApi;
  core: CoreV1Api;
  logger: Logger;
  defaultPolicy: DefaultPolicy;
  /** Decisions may have changed for the mappings of these namespaces (all: every namespace). */
  onChange(namespaces: string[] | 'all'): void;
}

const POLICIES = { group: GROUP, version: VERSION, plural: POLICY_PLURAL };

const sameLabels = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * The owner of what tenancy decisions read: SecretsRotationPolicies (compiled once per change) and
 * the labels of every namespace, both list+watch. A policy or a namespace's labels changing says
 * which namespaces' mappings to look at again; nothing is polled.
 */
export class TenancyCache {
  private readonly policies: Informer<CachedPolicy>;
  private readonly namespaces: Informer<CachedNamespace>;

  constructor(private readonly opts: TenancyCacheOptions) {
    const affected = (p: CompiledPolicy): string[] | 'all' =>
      p.selector === undefined
        ? 'all'
        : [...this.namespaces.values()].filter((n) => governs(p, n.labels)).map((n) => n.key);
    const policyChanged = (...ps: CachedPolicy[]): void => {
      const sets = ps.map((p) => affected(p.compiled));
      opts.onChange(sets.includes('all') ? 'all' : [...new Set(sets.flat())]);
    };
    this.policies = new Informer<CachedPolicy>({
      what: 'SecretsRotationPolicy',
      kubeConfig: opts.kubeConfig,
      watchPath: watchPath(POLICIES),
      list: (token) => listPage(opts.api, POLICIES, token),
      project: (raw) => projectPolicy(raw as Policy),
      logger: opts.logger,
      notServedHint:
        'the SecretsRotationPolicy API is not served: install the CRDs (kubectl apply --server-side -k manifests/base); no mapping is acted on until then; will retry',
      onAdd: (p) => policyChanged(p),
      onUpdate: (old, p) => {
        if (old.generation !== p.generation) policyChanged(old, p);
      },
      onDelete: (p) => policyChanged(p),
    });
    this.namespaces = new Informer<CachedNamespace>({
      what: 'namespace',
      kubeConfig: opts.kubeConfig,
      watchPath: '/api/v1/namespaces',
      list: async (token) => {
        const out = await opts.core.listNamespace({ limit: 500, _continue: token });
        return {
          items: out.items,
          resourceVersion: out.metadata?.resourceVersion ?? '',
          continue: out.metadata?._continue,
        };
      },
      project: (raw) => {
        const m = raw.metadata as {
          name?: string;
          resourceVersion?: string;
          labels?: Record<string, string>;
        };
        return { key: m.name ?? '', resourceVersion: m.resourceVersion, labels: m.labels ?? {} };
      },
      logger: opts.logger,
      onAdd: (n) => opts.onChange([n.key]),
      onUpdate: (old, n) => {
        if (!sameLabels(old.labels, n.labels)) opts.onChange([n.key]);
      },
    });
  }

  /** Resolves once policies and namespaces are listed: before that no decision can be made. */
  start(): Promise<void> {
    return Promise.all([this.policies.start(), this.namespaces.start()]).then(() => undefined);
  }

  stop(): void {
    this.policies.stop();
    this.namespaces.stop();
  }

  /**
   * May a mapping of `namespace` watch `secretId` — and, once DescribeSecret answered, the secret it
   * `resolved` to (see decide)? Undefined while the caches have not listed, or the namespace is not
   * in them yet (a mapping created right with its namespace): no decision, rather than one made
   * without the namespace's labels.
   */
  decide(namespace: string, secretId: string, resolved?: ResolvedSecret): Verdict | undefined {
    const ns = this.namespaces.get(namespace);
    if (!this.policies.hasSynced || !ns) return undefined;
    const policies = [...this.policies.values()].map((p) => p.compiled);
    const input = { namespace, labels: ns.labels, secretId, resolved };
    return decide(input, policies, this.opts.defaultPolicy);
  }

  /** May a mapping of `namespace` revert the secret `resolved` (see decideRevert)? Undefined: not listed yet. */
  decideRevert(namespace: string, resolved: ResolvedSecret): Verdict | undefined {
    const ns = this.namespaces.get(namespace);
    if (!this.policies.hasSynced || !ns) return undefined;
    const policies = [...this.policies.values()].map((p) => p.compiled);
    return decideRevert({ namespace, labels: ns.labels, resolved }, policies);
  }

  /** Every policy with the namespaces it governs now and the status it last had. */
  *governance(): Iterable<{
    name: string;
    generation?: number;
    namespaces: string[];
    status: Policy['status'];
  }> {
    for (const p of this.policies.values()) {
      const namespaces = [...this.namespaces.values()].filter((n) => governs(p.compiled, n.labels));
      yield {
        name: p.key,
        generation: p.generation,
        namespaces: namespaces.map((n) => n.key),
        status: p.status,
      };
    }
  }

  /** Read-your-writes for a status write of ours. */
  observePolicy(written: Policy): void {
    this.policies.observe(written);
  }
}

function projectPolicy(p: Policy): CachedPolicy {
  return {
    key: p.metadata.name,
    resourceVersion: p.metadata.resourceVersion,
    generation: p.metadata.generation,
    compiled: compilePolicy(p.metadata.name, p.spec ?? {}),
    status: p.status,
  };
}
