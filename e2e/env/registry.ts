import fs from 'node:fs';
import path from 'node:path';
import { freePort, startDetached, waitUntil, type Started } from './processes.js';

/**
 * A local OCI registry (Debian's docker-registry) on loopback, storing under `dir`: skaffold pushes
 * the operator image there and the real node's containerd pulls it over plain HTTP; the chart test
 * pushes the signed chart there (helm needs `--plain-http`).
 */
export async function startRegistry(
  dir: string,
  name = 'registry',
): Promise<{ proc: Started; address: string }> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, `${name}.yml`);
  fs.writeFileSync(
    config,
    `version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: ${path.join(dir, name)}}
  delete: {enabled: true}
http: {addr: '${address}'}
`,
  );
  const proc = startDetached(name, 'docker-registry', ['serve', config]);
  await waitUntil(
    name,
    () =>
      fetch(`http://${address}/v2/`)
        .then((r) => r.ok)
        .catch(() => false),
    { pid: proc.pid, log: proc.log },
  );
  return { proc, address };
}
