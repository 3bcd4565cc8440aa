import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { POLICY_KIND, POLICY_PLURAL, type Policy, type PolicyStatus } from '../../resources/policy-types.js';
import { API_VERSION, GROUP, VERSION } from '../../resources/types.js';

const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** Writes the status of SecretsRotationPolicies (server-side apply, our field manager). */
export class PolicyClient {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly fieldManager: string,
  ) {}

  async applyStatus(name: string, status: PolicyStatus): Promise<Policy> {
    return (await this.api.patchClusterCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: POLICY_PLURAL,
        name,
        body: { apiVersion: API_VERSION, kind: POLICY_KIND, metadata: { name }, status },
        fieldManager: this.fieldManager,
        force: true,
      },
      APPLY,
    )) as Policy;
  }
}
