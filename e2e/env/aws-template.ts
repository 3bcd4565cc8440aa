import fs from 'node:fs';
import path from 'node:path';
import { parse, type CollectionTag, type ScalarTag, type YAMLSeq } from 'yaml';
import { repoRoot } from './paths.js';

export const templatePath = path.join(repoRoot, 'manifests', 'aws', 'template.yaml');

const intrinsic = (tag: string, fn: string): ScalarTag => ({
  tag,
  resolve: (value: string) => ({ [fn]: value }),
});

const intrinsicList = (tag: string, fn: string): CollectionTag => ({
  tag,
  collection: 'seq',
  resolve: (value) => ({ [fn]: (value as YAMLSeq).toJSON() as unknown }),
});

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** The CloudFormation template, with its short-form intrinsics (!Ref, !GetAtt, !If…) kept as objects. */
export function loadTemplate(): Template {
  return parse(fs.readFileSync(templatePath, 'utf8'), {
    customTags: [
      intrinsic('!Ref', 'Ref'),
      intrinsic('!GetAtt', 'Fn::GetAtt'),
      intrinsic('!Sub', 'Fn::Sub'),
      intrinsicList('!If', 'Fn::If'),
      intrinsicList('!Not', 'Fn::Not'),
      intrinsicList('!Equals', 'Fn::Equals'),
    ],
  }) as Template;
}

/** The EventBridge rules the template ships: name → event pattern. Tests and env:up use the same. */
export function ruleEventPatterns(): Record<string, Record<string, unknown>> {
  const rules: Record<string, Record<string, unknown>> = {};
  for (const [name, res] of Object.entries(loadTemplate().Resources)) {
    if (res.Type === 'AWS::Events::Rule')
      rules[name] = res.Properties.EventPattern as Record<string, unknown>;
  }
  return rules;
}

/**
 * The template's intrinsics (!Ref, !GetAtt, !Sub of a string, !If) resolved against what a stack
 * created: `refs` by logical id, parameter or pseudo parameter name (AWS::Region…), `attributes` by
 * `Id.Attribute`, `conditions` by name (an !If whose condition is not given is left as it is).
 */
export function resolver(
  refs: Record<string, string>,
  attributes: Record<string, string>,
  conditions: Record<string, boolean> = {},
): (v: unknown) => unknown {
  const sub = (text: string): string =>
    text.replace(/\$\{([^}]+)\}/g, (all, k: string) => refs[k] ?? attributes[k] ?? all);
  const intrinsic = (o: Record<string, unknown>): { value: unknown } | undefined => {
    if (typeof o['Fn::GetAtt'] === 'string') return { value: attributes[o['Fn::GetAtt']] };
    if (typeof o.Ref === 'string') return { value: refs[o.Ref] ?? o.Ref };
    if (typeof o['Fn::Sub'] === 'string') return { value: sub(o['Fn::Sub']) };
    const branch = o['Fn::If'] as [string, unknown, unknown] | undefined;
    if (branch && branch[0] in conditions)
      return { value: resolve(conditions[branch[0]] ? branch[1] : branch[2]) };
    return undefined;
  };
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const done = intrinsic(o);
    return done ? done.value : Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return resolve;
}
