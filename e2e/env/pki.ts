import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { POD_GATEWAY } from './pod-network.js';

/** Files of the throw-away PKI of one local control plane. */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error("openssl is missing: install it ('apt-get install openssl')");
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`, { cause: err });
  }
}

/** A CA, the apiserver's serving certificate (127.0.0.1, the pods' gateway, localhost), an admin client and the SA key pair. */
export function createPki(dir: string): Pki {
  fs.mkdirSync(dir, { recursive: true });
  const p = (f: string): string => path.join(dir, f);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=sro-e2e-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  fs.writeFileSync(
    p('serving.ext'),
    `subjectAltName=IP:127.0.0.1,IP:${POD_GATEWAY},DNS:localhost,DNS:kubernetes.default.svc\n` +
      'extendedKeyUsage=serverAuth\n',
  );
  const leaf = (name: string, subj: string, ext?: string): void => {
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        subj,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '30',
        '-out',
        `${name}.crt`,
        ...(ext ? ['-extfile', ext] : []),
      ],
      dir,
    );
  };
  leaf('serving', '/CN=kube-apiserver', 'serving.ext');
  leaf('admin', '/O=system:masters/CN=sro-e2e-admin');
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('serving.crt'),
    servingKey: p('serving.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

export function kubeconfigYaml(
  server: string,
  caFile: string,
  user: { certFile: string; keyFile: string } | { token: string },
): string {
  const cred =
    'token' in user
      ? `    token: ${user.token}\n`
      : `    client-certificate: ${user.certFile}\n    client-key: ${user.keyFile}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- name: sro-e2e
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: sro-e2e
  user:
${cred}contexts:
- name: sro-e2e
  context: {cluster: sro-e2e, user: sro-e2e}
current-context: sro-e2e
`;
}
