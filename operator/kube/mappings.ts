import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type Mapping,
  type MappingStatus,
} from '../../resources/types.js';
import { isNotFound } from '../runtime/errors.js';

export const FINALIZER = 'secretsrotation.io/finalizer';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/**
 * Writes SecretsRotationMappings (reads come from the watch cache): the finalizer with the
 * resourceVersion read, status through its subresource. Each write returns the object the API server
 * answered, so the cache sees our own writes at once.
 */
export class MappingClient {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  /**
   * Adds or removes our finalizer. The patch carries the resourceVersion read, so a concurrent change
   * of the list by someone else is a 409 Conflict (retried) rather than a silent overwrite.
   */
  async setFinalizer(m: Mapping, present: boolean): Promise<Mapping | undefined> {
    const others = (m.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    const finalizers = present ? [...others, FINALIZER] : others;
    try {
      return (await this.api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: m.metadata.namespace,
          plural: PLURAL,
          name: m.metadata.name,
          body: { metadata: { resourceVersion: m.metadata.resourceVersion, finalizers } },
          fieldManager: this.fieldManager,
        },
        MERGE,
      )) as Mapping;
    } catch (err) {
      if (!present && isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Server-side apply of the status this operator owns (field manager `fieldManager`), conditioned
   * on the resourceVersion the pass read: a write computed from an older state — a deposed leader's
   * pass still in flight — is a 409 Conflict (retried from the current state), never an overwrite.
   */
  async applyStatus(m: Mapping, status: MappingStatus): Promise<Mapping> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: m.metadata.namespace,
        plural: PLURAL,
        name: m.metadata.name,
        body: {
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: {
            name: m.metadata.name,
            namespace: m.metadata.namespace,
            resourceVersion: m.metadata.resourceVersion,
          },
          status,
        },
        fieldManager: this.fieldManager,
        force: true,
      },
      APPLY,
    )) as Mapping;
  }
}
