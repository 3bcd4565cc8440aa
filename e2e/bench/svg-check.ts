import assert from 'node:assert/strict';

/** The elements of an SVG document in order, checking that every tag closes where it should. */
export function wellFormed(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes what it opened`);
    else {
      seen.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  assert.deepEqual(stack, [], 'every element closed');
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/, 'no value failed to compute');
  return seen;
}
