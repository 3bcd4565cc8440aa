import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer, type Cached } from './informer.js';
import { NamespaceInformers } from './namespace-informers.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;

/** An informer whose list waits until `release` is called (no API server needed: it never watches). */
function pending(made: string[], namespace: string, kind: string): Informer<Cached> {
  made.push(`${namespace}/${kind}`);
  return new Informer<Cached>({
    what: kind,
    kubeConfig: new KubeConfig(),
    watchPath: '/unused',
    list: () => new Promise(() => undefined),
    project: () => ({ key: '' }),
    logger: silent,
  });
}

test('informers start once per namespace and kind, and are listed only once they list', () => {
  const made: string[] = [];
  const ni = new NamespaceInformers<'A' | 'B', Cached>((ns, k) => pending(made, ns, k));
  assert.equal(ni.hasSynced, true, 'nothing started: nothing to wait for');
  ni.begin('x', ['A']);
  ni.begin('x', ['A', 'B']);
  ni.begin('y', ['A']);
  assert.deepEqual(made, ['x/A', 'x/B', 'y/A']);
  assert.deepEqual(ni.namespaces().sort(), ['x', 'y']);
  assert.equal(ni.watches, 3);
  assert.equal(ni.listed('x', ['A']), false);
  assert.equal(ni.listed('z', []), true, 'no kind asked: nothing to list');
  assert.equal(ni.hasSynced, false);
  ni.stop();
});

test('a dropped namespace stops its informers, frees them, and its waiters are let go', async () => {
  const made: string[] = [];
  const ni = new NamespaceInformers<'A', Cached>((ns, k) => pending(made, ns, k));
  const waiting = ni.ensure('x', ['A']);
  const first = ni.get('x', 'A');
  assert.ok(first && ni.current('x', 'A', first));
  assert.equal(ni.drop('x'), true);
  assert.equal(ni.drop('x'), false, 'dropped once');
  await waiting; // resolves although the list never came: the waiter looks again
  assert.equal(first.hasSynced, false);
  assert.equal(ni.current('x', 'A', first), false, 'its late events are ignored');
  assert.equal(ni.watches, 0);
  assert.equal(ni.hasSynced, true, 'a dropped namespace does not hold readiness');
  ni.begin('x', ['A']);
  assert.notEqual(ni.get('x', 'A'), first, 'a new mapping there starts a new informer');
  assert.deepEqual(made, ['x/A', 'x/A']);
  ni.stop();
});

/** An informer whose list answers each page from `pages` (failing when an entry is an Error). */
function paged(calls: string[], pages: (Error | { continue?: string })[]): Informer<Cached> {
  return new Informer<Cached>({
    what: 'paged',
    kubeConfig: new KubeConfig(),
    watchPath: '/unused',
    list: (token) => {
      calls.push(token ?? 'first');
      const page = pages.shift() ?? new Promise<never>(() => undefined);
      if (page instanceof Error) return Promise.reject(page);
      if (page instanceof Promise) return page;
      return Promise.resolve({ items: [], resourceVersion: '1', continue: page.continue });
    },
    project: () => ({ key: '' }),
    logger: silent,
    minBackoffMs: 5,
  });
}

test('retain stops the kinds no longer needed, and the namespace with its last kind', () => {
  const made: string[] = [];
  const ni = new NamespaceInformers<'A' | 'B', Cached>((ns, k) => pending(made, ns, k));
  ni.begin('x', ['A', 'B']);
  const b = ni.get('x', 'B');
  assert.deepEqual(ni.retain('x', ['A']), [b]);
  assert.equal(ni.watches, 1);
  assert.equal(ni.get('x', 'B'), undefined);
  assert.deepEqual(ni.retain('x', ['A']), [], 'nothing more to stop');
  ni.retain('x', []);
  assert.deepEqual(ni.namespaces(), [], 'no kind left: the namespace goes');
  assert.equal(ni.whenListed('x', ['A']), undefined, 'not started: nothing to wait for, nothing started');
  assert.equal(ni.watches, 0);
});

test('a LIST that fails is said (kind and error) and settles the informer; listing clears it', async () => {
  const calls: string[] = [];
  const pages: (Error | { continue?: string })[] = [new Error('forbidden (HTTP 403)'), {}];
  const ni = new NamespaceInformers<'A', Cached>(() => paged(calls, pages));
  assert.equal(ni.settled, true);
  ni.begin('x', ['A']);
  assert.equal(ni.settled, false, 'its first LIST has not answered');
  const listed = ni.whenListed('x', ['A']);
  assert.ok(listed);
  await listed; // the retry after the failure lists
  assert.deepEqual(calls, ['first', 'first']);
  assert.equal(ni.listFailure('x', ['A']), undefined, 'listed: no failure left');
  ni.stop();

  const failing = new NamespaceInformers<'A', Cached>(() => paged([], [new Error('boom (HTTP 500)')]));
  failing.begin('x', ['A']);
  const informer = failing.get('x', 'A');
  await new Promise<void>((resolve) => {
    const look = (): unknown => (informer?.settled ? resolve() : setImmediate(look));
    look();
  });
  assert.deepEqual(failing.listFailure('x', ['A']), { kind: 'A', error: 'boom (HTTP 500)' });
  assert.equal(failing.settled, true, 'failed once: readiness does not wait for it');
  assert.equal(failing.listed('x', ['A']), false);
  failing.stop();
});

test('an informer stopped while a LIST page is on the way aborts it and asks for no further page', async () => {
  const calls: string[] = [];
  const signals: AbortSignal[] = [];
  let answer: (page: { items: never[]; resourceVersion: string; continue?: string }) => void = () => {};
  const informer = new Informer<Cached>({
    what: 'paged',
    kubeConfig: new KubeConfig(),
    watchPath: '/unused',
    list: (token, signal) => {
      calls.push(token ?? 'first');
      signals.push(signal);
      return new Promise((r) => (answer = r));
    },
    project: () => ({ key: '' }),
    logger: silent,
  });
  const synced = informer.start();
  assert.deepEqual(calls, ['first']);
  assert.equal(signals[0].aborted, false);
  informer.stop();
  assert.equal(signals[0].aborted, true, 'the page on the way is aborted');
  // A server that answers anyway (the abort came too late): still no next page.
  answer({ items: [], resourceVersion: '1', continue: 'page-2' });
  await synced;
  // Every microtask has run by the next macrotask: a loop that went on has asked for page 2 by then.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['first'], 'page 2 never asked for');
  assert.equal(informer.hasSynced, false);
});
