import { parseArgs, USAGE, UsageError, type Args } from './args.js';
import { Cluster, loadConfig } from './cluster.js';
import { runImpact } from './impact-command.js';
import { processIo, type Io } from './io.js';
import { runResume } from './resume.js';
import { runStatus } from './status.js';

/** Exit codes (documented in the usage text and docs/kubectl-plugin.md). */
export const EXIT = { ok: 0, attention: 1, usage: 2, api: 3 } as const;

const RUN = { status: runStatus, impact: runImpact, resume: runResume };

async function run(args: Args, io: Io): Promise<number> {
  if (args.command === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (args.command === 'version') {
    io.out(`kubectl-secretsrotation ${process.env.SRO_PLUGIN_VERSION ?? 'dev'}\n`);
    return EXIT.ok;
  }
  const cluster = new Cluster(loadConfig(args));
  return RUN[args.command](args, cluster, Date.now(), io);
}

/** Runs the plugin on `argv`; resolves to the exit code. Errors are printed, never thrown. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    return await run(parseArgs(argv), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\nSee 'kubectl secretsrotation --help'.\n`);
      return EXIT.usage;
    }
    // The API server's refusal (ApiError), an unreadable kubeconfig, an unreachable server.
    io.err(`error: ${(err as Error).message}\n`);
    return EXIT.api;
  }
}
