import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stateDir, logDir } from './paths.js';

/**
 * A containerd of the tests' own (its socket, root and state under .e2e/containerd), without the CRI
 * plugin: containers started with `ctr` run under runc as a kubelet would start them — the image's
 * user, a read-only root filesystem, host networking to reach the local environment on loopback.
 */
export class Containerd {
  private constructor(
    private readonly dir: string,
    private readonly daemon: ChildProcess,
  ) {}

  private get socket(): string {
    return path.join(this.dir, 'containerd.sock');
  }

  static async start(): Promise<Containerd> {
    const dir = path.join(stateDir, 'containerd');
    // From empty every time: the snapshot store a previous run left (a killed containerd, a second
    // import of an image sharing layers) failed an import with "parent snapshot … does not exist".
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      console.error(`[containerd] could not empty ${dir} (${String(err)}); starting on what is there`);
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(logDir, { recursive: true });
    const config = path.join(dir, 'config.toml');
    fs.writeFileSync(
      config,
      [
        'version = 2',
        `root = "${path.join(dir, 'root')}"`,
        `state = "${path.join(dir, 'state')}"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${path.join(dir, 'containerd.sock')}"`,
        '[ttrpc]',
        `  address = "${path.join(dir, 'containerd.sock.ttrpc')}"`,
        '',
      ].join('\n'),
    );
    const log = fs.openSync(path.join(logDir, 'containerd.log'), 'a');
    const daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const c = new Containerd(dir, daemon);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        c.ctr(['version']);
        return c;
      } catch (err) {
        if (daemon.exitCode !== null || Date.now() > deadline)
          throw new Error(`containerd did not start; see ${path.join(logDir, 'containerd.log')}`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  ctr(args: string[]): string {
    return execFileSync('ctr', ['--address', this.socket, '--namespace', 'sro-e2e', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Imports (and unpacks) an OCI archive; returns the image names containerd now holds. */
  importImage(archive: string): string[] {
    this.ctr(['images', 'import', archive]);
    return this.ctr(['images', 'ls', '-q']).split('\n').filter(Boolean);
  }

  /** Runs `image` as container `id` in the foreground of a child process (stdout/stderr to `log`). */
  run(
    id: string,
    image: string,
    opts: { env: Record<string, string>; mounts: { src: string; dst: string }[]; log: string },
  ): RunningContainer {
    const fd = fs.openSync(opts.log, 'a');
    const args = [
      '--address',
      this.socket,
      '--namespace',
      'sro-e2e',
      'run',
      '--rm',
      '--net-host',
      '--read-only',
      ...Object.entries(opts.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...opts.mounts.flatMap((m) => ['--mount', `type=bind,src=${m.src},dst=${m.dst},options=rbind:ro`]),
      image,
      id,
    ];
    const child = spawn('ctr', args, { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return {
      process: child,
      exited,
      stop: async () => {
        try {
          this.ctr(['task', 'kill', '--signal', 'SIGTERM', id]);
        } catch {
          // already gone
        }
        return exited;
      },
    };
  }

  /** The container's main process as seen from the host (its user, for the non-root check). */
  taskPid(id: string): number {
    const line = this.ctr(['task', 'ls'])
      .split('\n')
      .find((l) => l.startsWith(`${id} `));
    return Number(line?.trim().split(/\s+/)[1] ?? 0);
  }

  async stop(): Promise<void> {
    this.daemon.kill('SIGTERM');
    await new Promise((r) => this.daemon.once('exit', r));
  }
}

export interface RunningContainer {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM to the container; resolves with ctr's exit code once it is gone. */
  stop(): Promise<number | null>;
}
