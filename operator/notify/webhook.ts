import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { payload, type Notification, type NotifyFormat } from './notification.js';

export interface WebhookOptions {
  url: string;
  format: NotifyFormat;
  /** Extra request headers (e.g. Authorization): fixed, or read for each request (see headerReader). */
  headers: Record<string, string> | (() => Record<string, string>);
  log: Logger;
  /** Notifications waiting at most; one more is dropped (counted). */
  capacity?: number;
  /** Attempts per notification (the first included), with exponential backoff between them. */
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  onSent?: (result: 'delivered' | 'failed') => void;
  onDropped?: (reason: 'queue_full' | 'gave_up') => void;
}

/**
 * Sends notifications to a webhook off the reconcile path: `notify` only queues (bounded; a full
 * queue drops and counts), one sender posts them in order with retries and backoff, so a slow or
 * dead receiver never delays a restart.
 */
export class WebhookNotifier {
  private readonly queue: Notification[] = [];
  private sending = false;
  private stopped = false;

  constructor(private readonly opts: WebhookOptions) {}

  notify = (n: Notification): void => {
    if (this.stopped) return;
    if (this.queue.length >= (this.opts.capacity ?? 1000)) {
      this.opts.onDropped?.('queue_full');
      return;
    }
    this.queue.push(n);
    if (!this.sending) void this.drain();
  };

  /** Stops sending; what is still queued is dropped. */
  stop = (): void => {
    this.stopped = true;
    this.queue.length = 0;
  };

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      for (let n = this.queue.shift(); n && !this.stopped; n = this.queue.shift()) await this.send(n);
    } finally {
      this.sending = false;
    }
  }

  private async send(n: Notification): Promise<void> {
    const { contentType, body } = payload(n, this.opts.format);
    const attempts = this.opts.attempts ?? 5;
    for (let attempt = 1; attempt <= attempts && !this.stopped; attempt++) {
      const error = await this.post(contentType, body);
      this.opts.onSent?.(error ? 'failed' : 'delivered');
      if (!error) return;
      this.opts.log.warn('notification not delivered', { reason: n.reason, attempt, error });
      if (attempt < attempts) await sleep((this.opts.backoffMs ?? 500) * 2 ** (attempt - 1));
    }
    this.opts.onDropped?.('gave_up');
  }

  /** One POST; the error as text, or undefined when the receiver answered 2xx. */
  private async post(contentType: string, body: string): Promise<string | undefined> {
    const extra = typeof this.opts.headers === 'function' ? this.opts.headers() : this.opts.headers;
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { ...extra, 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return failure(err);
    }
  }
}

/**
 * Why a fetch failed, as a constant reason: fetch's own messages may quote a header value (an
 * invalid one is echoed whole, token included), so they are never passed on.
 */
function failure(err: unknown): string {
  const e = (err ?? {}) as { name?: string; message?: string; cause?: { code?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  const code = e.cause?.code;
  if (e.message === 'fetch failed')
    return typeof code === 'string' && /^[A-Z_]+$/.test(code)
      ? `connection failed (${code})`
      : 'connection failed';
  return 'request not sent (invalid URL or header)';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The headers of NOTIFY_HEADERS_DIR as they are now, read for each request, so a token rotated in
 * the mounted Secret is used without a restart. A read that fails (the kubelet swapping the files)
 * keeps the headers read last; values are never logged.
 */
export function headerReader(dir: string | undefined, log: Logger): () => Record<string, string> {
  let last = readHeaders(dir, log);
  return () => {
    try {
      last = readHeaders(dir, log);
    } catch (err) {
      log.warn('could not read NOTIFY_HEADERS_DIR; using the headers read before', {
        error: (err as Error).message,
      });
    }
    return last;
  };
}

/** RFC 9110 field-name (a token) and field-value (visible ASCII or obs-text, SP/HTAB only inside). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;

/**
 * Request headers from a directory (a mounted Secret): each file a header, its name the header's
 * name, its content (trimmed) the value. Hidden entries (the kubelet's ..data links) are skipped,
 * and so is a file whose name or value no request may carry (an embedded newline, a character
 * beyond Latin-1): logged with the file's name, never its content.
 */
export function readHeaders(dir: string | undefined, log?: Logger): Record<string, string> {
  if (!dir) return {};
  const headers: Record<string, string> = {};
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    const value = fs.readFileSync(file, 'utf8').trim();
    if (FIELD_NAME.test(name) && FIELD_VALUE.test(value)) headers[name.toLowerCase()] = value;
    else log?.warn('NOTIFY_HEADERS_DIR file skipped: not a valid header name and value', { file: name });
  }
  return headers;
}
