import { setTimeout as sleep } from 'node:timers/promises';

/** A kubectl invocation (args after the kubeconfig); its stdout. */
export type KubectlRun = (args: string[]) => string | Promise<string>;

interface CrdObject {
  metadata?: { name?: string };
  status?: { conditions?: { type?: string; status?: string }[] | null };
}

/** The CRDs of `names` that `got` (kubectl get -o json of them: one object or a List) shows not Established. Pure. */
export function notEstablished(got: CrdObject & { items?: CrdObject[] }, names: string[]): string[] {
  const items = got.items ?? [got];
  const ready = new Set(
    items
      .filter((c) => c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'))
      .map((c) => c.metadata?.name),
  );
  return names.filter((n) => !ready.has(n));
}

/**
 * Waits until each CRD of `names` is Established. Not `kubectl wait --for=condition=Established`: on
 * a CRD created a moment ago, whose status has no conditions yet, it fails at once ("error:
 * .status.conditions accessor error: <nil> is of the type <nil>, expected []interface{}") instead of
 * waiting, which failed env:up under load. A CRD not found yet (or a failed get) is waited for too.
 */
export async function waitForCrdsEstablished(
  run: KubectlRun,
  names: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = names;
  let lastError = '';
  for (;;) {
    try {
      const got = JSON.parse(
        await run(['get', ...pending.map((n) => `crd/${n}`), '-o', 'json']),
      ) as CrdObject;
      pending = notEstablished(got, pending);
      if (!pending.length) return;
    } catch (err) {
      lastError = `; last error: ${(err as Error).message.split('\n')[0]}`;
    }
    if (Date.now() >= deadline)
      throw new Error(`CRDs not Established within ${timeoutMs} ms: ${pending.join(', ')}${lastError}`);
    await sleep(250);
  }
}

/** The project's own CRDs (resources/). */
export const OUR_CRDS = [
  'secretsrotationmappings.secretsrotation.io',
  'secretsrotationpolicies.secretsrotation.io',
];
