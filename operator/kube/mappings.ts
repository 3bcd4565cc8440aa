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

/** Reads and writes SecretsRotationMappings: always fresh from the API, status through its subresource. */
export class MappingClient {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  async get(namespace: string, name: string): Promise<Mapping | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      })) as Mapping;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Adds or removes our finalizer. The patch carries the resourceVersion read, so a concurrent change
   * of the list by someone else is a 409 Conflict (retried) rather than a silent overwrite.
   */
  async setFinalizer(m: Mapping, present: boolean): Promise<void> {
    const others = (m.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    const finalizers = present ? [...others, FINALIZER] : others;
    try {
      await this.api.patchNamespacedCustomObject(
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
      );
    } catch (err) {
      if (!present && isNotFound(err)) return;
      throw err;
    }
  }

  /**
   * Server-side apply of the status fields this operator owns (field manager `fieldManager`), so
   * conditions of other types written by other tools are kept.
   */
  async applyStatus(m: Mapping, status: MappingStatus): Promise<void> {
    await this.api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: m.metadata.namespace,
        plural: PLURAL,
        name: m.metadata.name,
        body: {
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: { name: m.metadata.name, namespace: m.metadata.namespace },
          status,
        },
        fieldManager: this.fieldManager,
        force: true,
      },
      APPLY,
    );
  }
}
