/**
 * What the bundle gives node-fetch 2 for `whatwg-url`. node-fetch reads one member of it, as a
 * fallback: `const URL = Url.URL || whatwgUrl.URL` — and Node's `url` module always has URL, so the
 * package is never used; loading it cost 1.7 MiB of heap (tr46's Unicode mapping table, built at
 * load). bundle-standins.test.ts checks that node-fetch still reads nothing else of it.
 */
export const URL = globalThis.URL;
