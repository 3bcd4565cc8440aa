import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { age, render, renderTable } from './output.js';

test('a table as kubectl prints one: padded columns three spaces apart, <none> for empty cells', () => {
  const text = renderTable({
    headers: ['NAMESPACE', 'NAME', 'READY'],
    rows: [
      ['team-a', 'db', 'True'],
      ['b', 'cache-long-name', ''],
    ],
  });
  assert.equal(
    text,
    [
      'NAMESPACE   NAME              READY',
      'team-a      db                True',
      'b           cache-long-name   <none>',
    ].join('\n'),
  );
});

test('-o json and -o yaml print the data whole; the table only for table', () => {
  const data = { kind: 'List', items: [{ name: 'db', ready: true }] };
  const table = (): string => 'TABLE';
  assert.deepEqual(JSON.parse(render('json', data, table)), data);
  assert.deepEqual(parse(render('yaml', data, table)), data);
  assert.equal(render('table', data, table), 'TABLE\n');
});

test('age in kubectl units', () => {
  const now = Date.parse('2026-01-10T00:00:00Z');
  assert.equal(age('2026-01-09T23:59:15Z', now), '45s');
  assert.equal(age('2026-01-09T23:48:00Z', now), '12m');
  assert.equal(age('2026-01-09T19:00:00Z', now), '5h');
  assert.equal(age('2026-01-07T00:00:00Z', now), '3d');
  assert.equal(age(undefined, now), '');
});
