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
 * The template's intrinsics (!Ref, !GetAtt) resolved against what a stack created: `refs` by logical
 * id or parameter name, `attributes` by `Id.Attribute`.
 */
export function resolver(
  refs: Record<string, string>,
  attributes: Record<string, string>,
): (v: unknown) => unknown {
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o['Fn::GetAtt'] === 'string') return attributes[o['Fn::GetAtt']];
    if (typeof o.Ref === 'string') return refs[o.Ref] ?? o.Ref;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return resolve;
}
