/** The plugin's command line, parsed once into a typed, read-only object (kubectl's flag forms). */

export const COMMANDS = ['status', 'impact', 'resume'] as const;
export type Command = (typeof COMMANDS)[number];
export const OUTPUTS = ['table', 'json', 'yaml'] as const;
export type Output = (typeof OUTPUTS)[number];

export interface Args {
  command: Command | 'help' | 'version';
  /** Positional arguments after the command: impact's SECRET, resume's MAPPING. */
  operands: string[];
  /** -n / --namespace; undefined: the command's default (see each command). */
  namespace?: string;
  /** -A / --all-namespaces. */
  allNamespaces: boolean;
  output: Output;
  /** --context: a context of the kubeconfig instead of its current one. */
  context?: string;
  /** --kubeconfig: a file instead of $KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
  /** --default-policy: the operator's DEFAULT_SECRET_POLICY (impact cannot read it from the API server). */
  defaultPolicy: 'allow' | 'deny';
  /** resume's --version: the version whose halt is resumed (as status showed it); another is refused. */
  version?: string;
}

/** A command line that cannot be run: the message says why (exit code 2, as kubectl's usage errors). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Flags that take a value, by every spelling, to the field they set. */
const VALUED: Record<
  string,
  'namespace' | 'output' | 'context' | 'kubeconfig' | 'defaultPolicy' | 'version'
> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '-o': 'output',
  '--output': 'output',
  '--context': 'context',
  '--kubeconfig': 'kubeconfig',
  '--default-policy': 'defaultPolicy',
  '--version': 'version',
};

/** Splits `--flag=value` and `-nvalue` / `-ojson` into a flag and its value; other words are left alone. */
function split(word: string): [string, string | undefined] {
  const eq = word.indexOf('=');
  if (word.startsWith('--') && eq > 0) return [word.slice(0, eq), word.slice(eq + 1)];
  if (/^-[no]./.test(word)) return [word.slice(0, 2), word.slice(2).replace(/^=/, '')];
  return [word, undefined];
}

type Raw = Partial<Record<(typeof VALUED)[string], string>> & {
  words: string[];
  all: boolean;
  help: boolean;
};

/** Boolean flags, by every spelling, to the field they set. */
const SWITCHES: Record<string, 'all' | 'help'> = {
  '-A': 'all',
  '--all-namespaces': 'all',
  '-h': 'help',
  '--help': 'help',
};

function scan(argv: string[]): Raw {
  const raw: Raw = { words: [], all: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = split(argv[i]);
    const field = VALUED[flag];
    if (field) {
      const value = inline ?? argv[++i];
      if (!value) throw new UsageError(`flag ${flag} needs a value`);
      raw[field] = value;
    } else if (SWITCHES[flag]) raw[SWITCHES[flag]] = true;
    else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown flag: ${flag}`);
    else raw.words.push(argv[i]);
  }
  return raw;
}

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${what} "${value}" must be one of ${allowed.join(', ')}`);
}

/** What each command takes after its name. */
const OPERANDS: Record<Command, string[]> = { status: [], impact: ['SECRET'], resume: ['MAPPING'] };

/** The command `word` names, with its operands checked against what it takes. */
function commandOf(word: string, operands: string[], raw: Raw): Command {
  const command = oneOf('command', word, COMMANDS);
  const wanted = OPERANDS[command];
  if (operands.length !== wanted.length) {
    const got = operands.length ? operands.join(' ') : 'none';
    throw new UsageError(`${command} takes ${wanted.join(' ') || 'no argument'}, got ${got}`);
  }
  if (raw.all && raw.namespace !== undefined) throw new UsageError('-n and -A cannot be used together');
  if (command === 'resume' && raw.all) throw new UsageError('resume names one mapping: use -n, not -A');
  if (command !== 'resume' && raw.version !== undefined) throw new UsageError('--version is resume’s flag');
  return command;
}

/** Parses the plugin's arguments (without node and the script); throws UsageError. Pure. */
export function parseArgs(argv: string[]): Args {
  const raw = scan(argv);
  const [word, ...operands] = raw.words;
  const base = {
    operands,
    namespace: raw.namespace,
    allNamespaces: raw.all,
    output: oneOf('output format', raw.output ?? 'table', OUTPUTS),
    context: raw.context,
    kubeconfig: raw.kubeconfig,
    defaultPolicy: oneOf('--default-policy', raw.defaultPolicy ?? 'allow', ['allow', 'deny'] as const),
    version: raw.version,
  };
  if (raw.help || word === undefined || word === 'help') return { ...base, command: 'help' };
  if (word === 'version') return { ...base, command: 'version' };
  return { ...base, command: commandOf(word, operands, raw) };
}

export const USAGE = `kubectl secretsrotation: what the secrets-rotation-operator's mappings are doing, from the API server only

Commands:
  status            every mapping in the namespaces you can read: Ready, rollouts in flight, halted,
                    waiting for a restart window (and when it opens), waiting for External Secrets;
                    exit code 1 when any mapping is not Ready
  impact SECRET     what restarts if SECRET (a name, full ARN or partial ARN) rotates now: the mappings
                    watching it, their targets and consumers, stage order, windows, policy refusals
  resume MAPPING    continue a halted staged rotation (sets the secretsrotation.io/resume annotation to
                    a value naming the halt: the operator resumes that halt only, never a newer one)

Flags:
  -n, --namespace NS     one namespace (status and impact default to every namespace you can read;
                         resume to the context's namespace)
  -A, --all-namespaces   every namespace (status, impact)
  -o, --output FORMAT    table (default), json or yaml
      --context NAME     a kubeconfig context other than the current one
      --kubeconfig FILE  a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --version V        resume: the version whose halt you looked at (status shows it); if the mapping
                         is halted for another version now, nothing is written (exit 1)
      --default-policy allow|deny
                         the operator's DEFAULT_SECRET_POLICY, for impact's policy verdicts (default allow)
  -h, --help             this text

Exit codes: 0 done; 1 a mapping is not Ready (status) or is not halted, or not for --version (resume);
2 usage error;
3 the API server refused or could not be reached.
`;
