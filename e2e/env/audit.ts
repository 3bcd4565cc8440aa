import fs from 'node:fs';
import path from 'node:path';
import { logDir, stateDir } from './paths.js';

/** Where kube-apiserver writes its audit log (see AUDIT_POLICY): failing tests print from it. */
export const auditLogPath = path.join(logDir, 'kube-apiserver-audit.log');

/**
 * Who changed a workload's spec, and who held the operator's Lease when: every patch and update of
 * an apps/v1 workload (not its status), who deleted one, and every write of a Lease named
 * secrets-rotation-operator, at RequestResponse (user, patch body, object after, without managed
 * fields: the watch of kit/workload-writers.ts has them); nothing else. A benchmark's thousands of
 * patches make ~4 KiB each: the log is cut at 100 MB, one old file kept.
 */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
omitManagedFields: true
rules:
  - level: RequestResponse
    verbs: [patch, update, delete]
    resources:
      - group: apps
        resources: [deployments, statefulsets, daemonsets]
  - level: RequestResponse
    verbs: [patch, update]
    resources:
      - group: coordination.k8s.io
        resources: [leases]
        resourceNames: [secrets-rotation-operator]
  - level: None
`;

/** kube-apiserver's flags for that audit log; writes the policy file. */
export function auditArgs(): string[] {
  fs.mkdirSync(logDir, { recursive: true });
  const policy = path.join(stateDir, 'audit-policy.yaml');
  fs.writeFileSync(policy, AUDIT_POLICY);
  return [
    `--audit-policy-file=${policy}`,
    `--audit-log-path=${auditLogPath}`,
    '--audit-log-format=json',
    '--audit-log-maxsize=100',
    '--audit-log-maxbackup=1',
  ];
}
