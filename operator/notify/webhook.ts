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
      return (err as Error).message;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The headers of NOTIFY_HEADERS_DIR as they are now, read for each request, so a token rotated in
 * the mounted Secret is used without a restart. A read that fails (the kubelet swapping the files)
 * keeps the headers read last; values are never logged.
 */
export function headerReader(dir: string | undefined, log: Logger): () => Record<string, string> {
  let last = readHeaders(dir);
  return () => {
    try {
      last = readHeaders(dir);
    } catch (err) {
      log.warn('could not read NOTIFY_HEADERS_DIR; using the headers read before', {
        error: (err as Error).message,
      });
    }
    return last;
  };
}

/**
 * Request headers from a directory (a mounted Secret): each file a header, its name the header's
 * name, its content (trimmed) the value. Hidden entries (the kubelet's ..data links) are skipped.
 */
export function readHeaders(dir: string | undefined): Record<string, string> {
  if (!dir) return {};
  const headers: Record<string, string> = {};
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) headers[name.toLowerCase()] = fs.readFileSync(file, 'utf8').trim();
  }
  return headers;
}
