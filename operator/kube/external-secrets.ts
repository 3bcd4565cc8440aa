import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { FORCE_SYNC_ANNOTATION } from './consumption.js';
import { OPTIONAL_APIS } from './optional-apis.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The one write the operator makes to an ExternalSecret: ESO's documented trigger for an immediate
 * sync, `force-sync: <unix time>` on its metadata (ESO refreshes when the annotations' hash changes).
 */
export class ExternalSecrets {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  /** Sets the annotation; returns the ExternalSecret as the API server answered. */
  async forceSync(namespace: string, name: string, unixSeconds: number): Promise<object> {
    const { group, version, plural } = OPTIONAL_APIS.externalSecrets;
    return (await this.api.patchNamespacedCustomObject(
      {
        group,
        version,
        plural,
        namespace,
        name,
        fieldManager: this.fieldManager,
        body: { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: String(unixSeconds) } } },
      },
      MERGE,
    )) as object;
  }
}
