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
