import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDetached, tcpOpen, waitUntil, type Started } from './processes.js';

/** The pod network: a bridge on this machine, no default route in pods, so nothing leaves it. */
export const POD_SUBNET = '10.244.0.0/24';
/** The host's side of the bridge: the pods' gateway, and where they reach the host's services. */
export const POD_GATEWAY = '10.244.0.1';
const BRIDGE = 'sro0';

/** The CNI configuration of the real node: the bridge, addresses from POD_SUBNET, no way off it. */
export const cniConfig = (ipamDir: string): string =>
  JSON.stringify({
    cniVersion: '0.4.0',
    name: 'sro-pods',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: POD_SUBNET, gateway: POD_GATEWAY }]],
          // Only the pod network: no default route, so no pod traffic leaves the machine.
          routes: [{ dst: '10.244.0.0/16' }],
          dataDir: ipamDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });

/**
 * The bridge with the gateway address, made before the first pod (the CNI plugin would make it
 * then): the relay must bind the gateway address before any pod needs it.
 */
export function createBridge(): void {
  deleteBridge();
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('addr', 'add', `${POD_GATEWAY}/${POD_SUBNET.split('/')[1]}`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
}

export function deleteBridge(): void {
  try {
    execFileSync('ip', ['link', 'delete', BRIDGE], { stdio: 'ignore' });
  } catch {
    // no bridge
  }
}

/**
 * Pods reach the API server and the AWS endpoint, which listen on the host's loopback only, through
 * a TCP relay on the gateway address: POD_GATEWAY:port to 127.0.0.1:port, for these ports only. It
 * replaces hostNetwork (which PodSecurity restricted forbids) and opens nothing beyond the bridge.
 */
export async function startPodRelay(ports: number[]): Promise<Started> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pod-relay.js');
  const proc = startDetached('pod-relay', process.execPath, [script, POD_GATEWAY, ...ports.map(String)]);
  for (const port of ports)
    await waitUntil(`the pod relay on ${POD_GATEWAY}:${port}`, () => tcpOpen(port, POD_GATEWAY), {
      pid: proc.pid,
      log: proc.log,
    });
  return proc;
}
