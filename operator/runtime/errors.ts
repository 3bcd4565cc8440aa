/** Error classes callers branch on. Each carries the context a log line needs. */

/** The secret does not exist (or is scheduled for deletion). */
export class SecretNotFoundError extends Error {
  override name = 'SecretNotFoundError';
}

/** The operator's AWS identity may not DescribeSecret this secret. */
export class AccessDeniedError extends Error {
  override name = 'AccessDeniedError';
}

/**
 * AWS asked us to slow down (ThrottlingException, or the SDK's throttling classification), here or
 * in the error's causes (SecretVersions wraps the SDK's error with the secret it was about).
 */
export function isThrottled(err: unknown): boolean {
  for (let e = err as ErrorShape | undefined, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (
      e.name === 'ThrottlingException' ||
      e.name === 'TooManyRequestsException' ||
      e.$retryable?.throttling === true ||
      e.$metadata?.httpStatusCode === 429
    )
      return true;
  }
  return false;
}

interface ErrorShape {
  name?: string;
  cause?: ErrorShape;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

/** HTTP status of a Kubernetes API error from client-node 1.x (ApiException.code), if any. */
export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
/** The Status object of a Kubernetes API error (client-node 1.x gives its JSON body as a string). */
function statusBody(err: unknown): {
  reason?: string;
  details?: { name?: string; kind?: string; causes?: unknown[] };
} {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body !== 'string') return (body as ReturnType<typeof statusBody> | undefined) ?? {};
  try {
    return JSON.parse(body) as ReturnType<typeof statusBody>;
  } catch {
    return {};
  }
}

/**
 * A JSON Patch whose `test` failed (our compare-and-swap lost). The API server answers that with a
 * bare 422 (reason Invalid, details naming no object and no cause: the patch handler's generic
 * response); admission (a ValidatingAdmissionPolicy's default denial) and validation answer 422 too,
 * but name the object and carry their message as a cause. Those are refusals, not conflicts.
 */
export function isTestFailed(err: unknown): boolean {
  if (statusCode(err) !== 422) return false;
  const { details } = statusBody(err);
  return !details?.name && !details?.kind && !(details?.causes ?? []).length;
}

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
