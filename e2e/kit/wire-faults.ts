import type { Rng } from '../chaos/rng.js';

/** What a request on the operator's wire does, as far as the faults care. */
export const REQUEST_KINDS = [
  // kube-apiserver
  'status-write',
  'workload-patch',
  'event-write',
  'lease-write',
  'watch',
  'kube-read',
  'kube-write',
  // the AWS endpoint
  'describe-secret',
  'receive-message',
  'delete-message',
  'aws-other',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * The faults the relay can put on one request. "Before" faults never reach the server; "lose-answer"
 * faults forward the request, let the server commit it, and then drop the answer — the fault that
 * makes "did my write happen?" a real question. On a watch, `timeout-before` is a connection that
 * never answers, `cut-watch` ends it mid-event, `stall-watch` answers and then goes silent for good
 * (a path gone dead with the connection still open).
 */
export const FAULT_CLASSES = [
  'error-500',
  'error-503',
  'error-429',
  'reset-before',
  'timeout-before',
  'lose-answer-reset',
  'lose-answer-hang',
  'delay',
  'cut-watch',
  'stall-watch',
  'duplicate',
] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

/** The faults that make sense for a kind: a watch is cut or stalled, not left unanswered after it ran. */
export function faultsFor(kind: RequestKind): FaultClass[] {
  if (kind === 'watch') return FAULT_CLASSES.filter((f) => !f.startsWith('lose-answer'));
  return FAULT_CLASSES.filter((f) => f !== 'cut-watch' && f !== 'stall-watch');
}

export interface RequestLine {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  /** `x-amz-target` of an AWS JSON-protocol call. */
  target?: string;
  /** The request body (AWS calls name their secret or queue there). */
  body?: string;
}

const WORKLOAD =
  /^\/apis\/(apps\/v1\/namespaces\/[^/]+\/(deployments|statefulsets|daemonsets)|argoproj\.io\/v1alpha1\/namespaces\/[^/]+\/rollouts)\/[^/]+$/;

/** The kind of a write to kube-apiserver, by its path (the first rule that matches). */
const KUBE_WRITES: [RegExp, RequestKind][] = [
  [/\/status$/, 'status-write'],
  [/\/events(\/[^/]+)?$/, 'event-write'],
  [/^\/apis\/coordination\.k8s\.io\//, 'lease-write'],
];

/** The kind of a request to kube-apiserver. */
export function kubeKind(r: RequestLine): RequestKind {
  const [path, query = ''] = r.url.split('?', 2);
  if (r.method === 'GET')
    return ['true', '1'].includes(new URLSearchParams(query).get('watch') ?? '') ? 'watch' : 'kube-read';
  const write = KUBE_WRITES.find(([re]) => re.test(path));
  if (write) return write[1];
  return (r.method === 'PATCH' || r.method === 'PUT') && WORKLOAD.test(path)
    ? 'workload-patch'
    : 'kube-write';
}

/** The kind of a request to the AWS endpoint (JSON protocol: the operation is in `x-amz-target`). */
export function awsKind(r: RequestLine): RequestKind {
  const op = r.target?.split('.').at(-1) ?? '';
  if (op === 'DescribeSecret') return 'describe-secret';
  if (op === 'ReceiveMessage') return 'receive-message';
  if (op === 'DeleteMessage' || op === 'DeleteMessageBatch') return 'delete-message';
  return 'aws-other';
}

/** One line of a fault plan: for requests of `kinds` (and `match`, when given), `faults` with `probability`. */
export interface FaultRule {
  kinds: readonly RequestKind[];
  faults: readonly FaultClass[];
  /** Chance per matching request (default 1). */
  probability?: number;
  /** The rule retires after this many faults (default: never). */
  times?: number;
  /** Only requests whose method and URL pass. */
  match?: (r: RequestLine) => boolean;
  /** Delay range for `delay`, and the time `timeout-before` / `lose-answer-hang` hold a request. */
  delayMs?: [number, number];
}

export interface Decision {
  fault: FaultClass;
  delayMs: number;
  /** Index of the rule that chose it, in the order rules were added. */
  rule: number;
}

/**
 * The fault for one request, if any: the first live rule that matches it and whose coin falls. A rule
 * whose `times` ran out is spent. Pure but for `rng` and the rules' counters, so a seed replays a plan.
 */
export function decide(
  rules: { rule: FaultRule; used: number }[],
  kind: RequestKind,
  line: RequestLine,
  rng: Rng,
): Decision | undefined {
  for (const [index, entry] of rules.entries()) {
    if (!applies(entry, kind, line) || rng.next() >= (entry.rule.probability ?? 1)) continue;
    const usable = entry.rule.faults.filter((f) => faultsFor(kind).includes(f));
    if (!usable.length) continue;
    entry.used++;
    const [lo, hi] = entry.rule.delayMs ?? [200, 2000];
    return { fault: rng.pick(usable), delayMs: rng.int(lo, hi), rule: index };
  }
  return undefined;
}

/** A live rule (not spent) for this kind of request and this request. */
function applies(entry: { rule: FaultRule; used: number }, kind: RequestKind, line: RequestLine): boolean {
  const { rule } = entry;
  if (rule.times !== undefined && entry.used >= rule.times) return false;
  return rule.kinds.includes(kind) && (!rule.match || rule.match(line));
}
