import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { kubectl, type ControlPlane, type Toolchain } from './cluster.js';
import { exportImage } from './image.js';
import { cniConfig, createBridge, deleteBridge } from './pod-network.js';
import { stateDir } from './paths.js';
import { freePort, onPath, startDetached, waitUntil, type Started } from './processes.js';
import { startRegistry } from './registry.js';

/** The Node where real containers run (beside the kwok Nodes); only pods that tolerate the taint land there. */
export const REAL_NODE = 'real-node';
export const REAL_NODE_TAINT = 'secretsrotation.io/real-node';

const dir = path.join(stateDir, 'node');
const socket = path.join(dir, 'containerd.sock');

/** Why this machine cannot run the real node, or undefined when it can. */
export function realNodeUnavailable(tools: Toolchain): string | undefined {
  if (process.env.ENV_REAL_NODE === '0') return 'ENV_REAL_NODE=0';
  if (process.getuid?.() !== 0) return 'kubelet and containerd need root';
  for (const bin of ['containerd', 'runc', 'buildah', 'ip', 'docker-registry'])
    if (!onPath(bin))
      return `${bin} is not installed (apt-get install containerd runc buildah iproute2 docker-registry)`;
  if (!fs.existsSync('/usr/lib/cni/bridge'))
    return 'CNI plugins missing (apt-get install containernetworking-plugins)';
  if (!fs.existsSync(path.join(tools.binDir, 'kubelet'))) return 'kubelet not built (e2e/env/build.sh)';
  return undefined;
}

function containerdConfig(registry: string): string {
  return `version = 2
root = "${path.join(dir, 'containerd')}"
state = "${path.join(dir, 'containerd-state')}"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.10"
  # This machine refuses a negative oom_score_adj (the kubelet asks -998 for sandboxes).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${path.join(dir, 'net.d')}"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."${registry}"]
    endpoint = ["http://${registry}"]
`;
}

function kubeletConfig(ports: { port: number; healthz: number }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://${socket}
address: 127.0.0.1
port: ${ports.port}
healthzPort: ${ports.healthz}
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
registerWithTaints:
  - {key: ${REAL_NODE_TAINT}, effect: NoSchedule}
cgroupsPerQOS: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
evictionHard: {}
# Report the Node's status (its Ready heartbeat) every 10 s, not every 5 min: tests wait for a fresh
# heartbeat after an API server restart, as they do for the kwok Nodes.
nodeStatusReportFrequency: 10s
nodeStatusUpdateFrequency: 10s
`;
}

/** The pause image of the pod sandboxes: a static Go binary that waits for a signal. */
const PAUSE = {
  tag: 'localhost/pause:3.10',
  source: `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
}
`,
};

/**
 * The sample workload's image on the real node (the "nginx" of the samples, built here): a static Go
 * HTTP server on :8080 that answers with its pod's name, non-root.
 */
export const STATIC_WEB = {
  tag: 'localhost/static-web:1',
  source: `package main

import (
	"net/http"
	"os"
)

func main() {
	name, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello from " + name + "\\n")) })
	_ = http.ListenAndServe(":8080", nil)
}
`,
};

/** An image of one static Go binary on an empty base, built once and cached as an OCI archive. */
function goImage(tools: Toolchain, image: { tag: string; source: string }): string {
  const name = image.tag.replace(/^localhost\//, '').replace(/[:/]/g, '-');
  const archive = path.join(tools.cacheDir, `${name}.tar`);
  if (fs.existsSync(archive)) return archive;
  const work = fs.mkdtempSync(path.join(tools.cacheDir, 'tmp', `${name}-`));
  fs.writeFileSync(path.join(work, 'main.go'), image.source);
  execFileSync('go', ['mod', 'init', 'app'], { cwd: work, stdio: 'ignore' });
  execFileSync('go', ['build', '-ldflags', '-s -w', '-o', 'app', '.'], {
    cwd: work,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '' },
  });
  const env = { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };
  const c = execFileSync('buildah', ['from', 'scratch'], { env, encoding: 'utf8' }).trim();
  execFileSync('buildah', ['copy', c, path.join(work, 'app'), '/app'], { env, stdio: 'ignore' });
  execFileSync('buildah', ['config', '--entrypoint', '["/app"]', '--user', '65532:65532', c], { env });
  execFileSync('buildah', ['commit', '--quiet', '--rm', c, image.tag], { env, stdio: 'ignore' });
  exportImage(image.tag, archive);
  fs.rmSync(work, { recursive: true, force: true });
  return archive;
}

/** `ctr` against the node's containerd, in the CRI's namespace. */
export function nodeCtr(args: string[]): string {
  return execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Makes an OCI archive's images available to the node's pods (imagePullPolicy: IfNotPresent/Never). */
export function loadImage(archive: string): void {
  nodeCtr(['images', 'import', archive]);
}

/**
 * A real Node: containerd (CRI, runc, a CNI bridge) and a kubelet built from the same Kubernetes
 * module, registered as `real-node` with a NoSchedule taint, authenticated as system:node:real-node
 * (the Node authorizer), pulling from a local registry. Returns its processes (to be stopped with the
 * rest) and the registry's address.
 */
export async function startRealNode(
  tools: Toolchain,
  cp: ControlPlane,
): Promise<{ processes: Started[]; registry: string }> {
  fs.mkdirSync(path.join(dir, 'net.d'), { recursive: true });
  const registry = await startRegistry(dir);
  fs.writeFileSync(path.join(dir, 'containerd.toml'), containerdConfig(registry.address));
  fs.writeFileSync(path.join(dir, 'net.d', '10-sro.conflist'), cniConfig(path.join(dir, 'ipam')));
  createBridge();
  const containerd = startDetached('containerd', 'containerd', [
    '--config',
    path.join(dir, 'containerd.toml'),
  ]);
  await waitUntil(
    'containerd',
    () => {
      try {
        nodeCtr(['version']);
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
    { pid: containerd.pid, log: containerd.log },
  );
  loadImage(goImage(tools, PAUSE));
  loadImage(goImage(tools, STATIC_WEB));
  const ports = { port: await freePort(), healthz: await freePort() };
  fs.writeFileSync(path.join(dir, 'kubelet.yaml'), kubeletConfig(ports));
  const kubelet = startDetached('kubelet', path.join(tools.binDir, 'kubelet'), [
    `--config=${path.join(dir, 'kubelet.yaml')}`,
    `--kubeconfig=${nodeKubeconfig(cp)}`,
    `--root-dir=${path.join(dir, 'kubelet')}`,
    `--hostname-override=${REAL_NODE}`,
  ]);
  await waitUntil(
    `Node ${REAL_NODE} Ready`,
    () => {
      try {
        const ready = kubectl(tools.binDir, cp.kubeconfig, [
          'get',
          'node',
          REAL_NODE,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]);
        return Promise.resolve(ready === 'True');
      } catch {
        return Promise.resolve(false);
      }
    },
    { pid: kubelet.pid, log: kubelet.log, timeoutMs: 60_000 },
  );
  return { processes: [registry.proc, containerd, kubelet], registry: registry.address };
}

/** A client certificate for system:node:real-node (group system:nodes), signed by the env's CA. */
function nodeKubeconfig(cp: ControlPlane): string {
  const key = path.join(dir, 'node.key');
  const csr = path.join(dir, 'node.csr');
  const crt = path.join(dir, 'node.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/O=system:nodes/CN=system:node:${REAL_NODE}`,
      '-keyout',
      key,
      '-out',
      csr,
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      cp.pki.caCert,
      '-CAkey',
      cp.pki.caKey,
      '-CAcreateserial',
      '-days',
      '30',
      '-out',
      crt,
    ],
    { stdio: 'ignore' },
  );
  const file = path.join(dir, 'kubelet.kubeconfig');
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: ${cp.apiserverUrl}, certificate-authority: ${cp.pki.caCert}}}]
users: [{name: node, user: {client-certificate: ${crt}, client-key: ${key}}}]
contexts: [{name: node, context: {cluster: local, user: node}}]
current-context: node
`,
  );
  return file;
}

/** Before the kubelet and containerd stop: every container of the node is killed through containerd. */
export async function drainRealNode(): Promise<void> {
  if (!fs.existsSync(socket)) return;
  const tasks = (): string[] => {
    try {
      return nodeCtr(['tasks', 'ls', '-q']).split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  for (const id of tasks()) {
    try {
      nodeCtr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
    } catch {
      // exited meanwhile
    }
  }
  const deadline = Date.now() + 10_000;
  while (tasks().some((id) => isRunning(id)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
}

const isRunning = (id: string): boolean => {
  try {
    return /RUNNING/.test(
      nodeCtr(['tasks', 'ls'])
        .split('\n')
        .find((l) => l.startsWith(id)) ?? '',
    );
  } catch {
    return false;
  }
};

/**
 * After the kubelet and containerd stopped: the shims of this node's containerd (they run on their
 * own; drainRealNode killed their containers), the mounts, the bridge and the node's state go, so
 * env:down leaves nothing behind.
 */
export function cleanRealNode(): void {
  if (!fs.existsSync(dir)) return;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(socket))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir) || m.startsWith('/run/netns/cni-'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  deleteBridge();
  fs.rmSync(dir, { recursive: true, force: true });
}
