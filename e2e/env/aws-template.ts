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
