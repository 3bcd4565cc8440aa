import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitArgs } from './run-args.js';

test('run-e2e arguments: options with their values, in either spelling, apart from the files', () => {
  assert.deepEqual(
    splitArgs([
      '--test-timeout',
      '600000',
      'dist/e2e/a.test.js',
      '--test-name-pattern',
      'x y',
      '--test-reporter=dot',
      '--test-only',
      '--test-concurrency',
      '2',
      'dist/e2e/b.test.js',
      '--import',
      './setup.js',
    ]),
    {
      options: [
        '--test-timeout',
        '600000',
        '--test-name-pattern',
        'x y',
        '--test-reporter=dot',
        '--test-only',
        '--test-concurrency',
        '2',
        '--import',
        './setup.js',
      ],
      files: ['dist/e2e/a.test.js', 'dist/e2e/b.test.js'],
    },
  );
  // A switch takes no value: the file after it stays a file; a value-taking option last keeps none.
  assert.deepEqual(splitArgs(['--test-only', 'a.test.js', '--test-timeout']), {
    options: ['--test-only', '--test-timeout'],
    files: ['a.test.js'],
  });
});
