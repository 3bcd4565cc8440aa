/**
 * The node options that take their value as the next argument when written without `=`: node's
 * test runner's, and the general ones a test run may want (loaders, conditions, env files).
 */
const TAKES_VALUE = new Set([
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-timeout',
  '--test-concurrency',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-shard',
  '--test-isolation',
  '--test-global-setup',
  '--test-coverage-include',
  '--test-coverage-exclude',
  '--test-coverage-branches',
  '--test-coverage-functions',
  '--test-coverage-lines',
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--conditions',
  '-C',
  '--env-file',
  '--env-file-if-exists',
]);

/**
 * node --test options apart from the test files: `--flag=value`, `--flag value` for the options that
 * take one (TAKES_VALUE: `--test-timeout 600000` must not make 600000 a file), and bare switches. An
 * option that takes a value but ends the arguments keeps no value (node says what is wrong). Pure.
 */
export function splitArgs(args: string[]): { options: string[]; files: string[] } {
  const options: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) files.push(a);
    else if (!a.includes('=') && TAKES_VALUE.has(a) && i + 1 < args.length) options.push(a, args[++i]);
    else options.push(a);
  }
  return { options, files };
}
