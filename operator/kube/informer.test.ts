import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store, olderThan, type Cached, type RawObject } from './informer.js';

interface Item extends Cached {
  label?: string;
}

const raw = (name: string, rv: string, label?: string): RawObject & { label?: string } => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  label,
});
const project = (r: RawObject): Item => ({
  key: `${r.metadata?.namespace}/${r.metadata?.name}`,
  resourceVersion: r.metadata?.resourceVersion,
  label: (r as { label?: string }).label,
});

function recording(): { store: Store<Item>; log: string[] } {
  const log: string[] = [];
  const store = new Store<Item>(project, {
    onAdd: (o) => log.push(`add ${o.key}@${o.resourceVersion}`),
    onUpdate: (a, b) => log.push(`update ${b.key} ${a.resourceVersion}→${b.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.key}`),
  });
  return { store, log };
}

test('olderThan compares etcd revisions numerically and refuses to judge anything else', () => {
  assert.equal(olderThan('9', '10'), true);
  assert.equal(olderThan('10', '9'), false);
  assert.equal(olderThan('10', '10'), false);
  assert.equal(olderThan('abc', '10'), false);
  assert.equal(olderThan(undefined, '10'), false);
});

test('watch events add, update and delete; a stale event is skipped', () => {
  const { store, log } = recording();
  store.apply('ADDED', raw('a', '5'));
  store.apply('MODIFIED', raw('a', '7', 'x'));
  store.apply('MODIFIED', raw('a', '6', 'stale'));
  assert.equal(store.get('ns/a')?.label, 'x', 'an older event does not overwrite a newer object');
  store.apply('DELETED', raw('a', '8'));
  store.apply('DELETED', raw('b', '9'));
  assert.deepEqual(log, ['add ns/a@5', 'update ns/a 5→7', 'delete ns/a']);
  assert.equal(store.size, 0);
});

test('a write of ours is seen at once, and the watch event for it arriving later changes nothing', () => {
  const { store, log } = recording();
  store.apply('ADDED', raw('a', '5'));
  store.apply('MODIFIED', raw('a', '9', 'ours'));
  store.apply('MODIFIED', raw('a', '8', 'in flight'));
  store.apply('MODIFIED', raw('a', '9', 'ours'));
  assert.equal(store.get('ns/a')?.label, 'ours');
  assert.deepEqual(log, ['add ns/a@5', 'update ns/a 5→9', 'update ns/a 9→9']);
});

test('a relist replaces the store: missing keys deleted, others added or updated', () => {
  const { store, log } = recording();
  store.replace([project(raw('a', '1')), project(raw('b', '2'))]);
  store.replace([project(raw('b', '3')), project(raw('c', '4'))]);
  assert.deepEqual(store.keys().sort(), ['ns/b', 'ns/c']);
  assert.deepEqual(log, ['add ns/a@1', 'add ns/b@2', 'update ns/b 2→3', 'add ns/c@4', 'delete ns/a']);
});

test('the answer of our own write never brings back an object whose DELETED event came first', () => {
  const { store, log } = recording();
  store.apply('ADDED', raw('a', '5'));
  // The finalizer-removal PATCH answers with rv 8, but the watch's DELETED (rv 9) arrives first.
  store.apply('DELETED', raw('a', '9'));
  store.observe(raw('a', '8'));
  assert.equal(store.get('ns/a'), undefined, 'no ghost');
  assert.deepEqual(log, ['add ns/a@5', 'delete ns/a']);
  // A write answer for a key still held updates it (read-your-writes).
  store.apply('ADDED', raw('b', '10'));
  store.observe(raw('b', '11', 'ours'));
  assert.equal(store.get('ns/b')?.label, 'ours');
});
