/** Error classes callers branch on. Each carries the context a log line needs. */

/** The secret does not exist (or is scheduled for deletion). */
export class SecretNotFoundError extends Error {
  override name = 'SecretNotFoundError';
}

/** The operator's AWS identity may not DescribeSecret this secret. */
export class AccessDeniedError extends Error {
  override name = 'AccessDeniedError';
}

/** HTTP status of a Kubernetes API error from client-node 1.x (ApiException.code), if any. */
export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
/** A JSON Patch whose `test` failed (the compare-and-swap lost): 422 Unprocessable Entity. */
export const isUnprocessable = (err: unknown): boolean => statusCode(err) === 422;

/** A short, single-line description of an error (no response bodies, which can be large). */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = statusCode(err);
  const body = (err as { body?: unknown }).body;
  const apiMessage =
    typeof body === 'string' ? safeMessage(body) : (body as { message?: string } | undefined)?.message;
  return [err.message.split('\n')[0], code !== undefined ? `(HTTP ${code})` : '', apiMessage ?? '']
    .filter(Boolean)
    .join(' ')
    .slice(0, 500);
}

function safeMessage(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return undefined;
  }
}

/** The leadership term ended: the work is abandoned (not failed) and left to the next leader. */
export class TermEndedError extends Error {
  override name = 'TermEndedError';
  constructor() {
    super('the leadership term ended; left to the next leader');
  }
}
