import type { ImpactTarget, MappingImpact, PolicyVerdict } from './impact.js';
import { renderTable } from './output.js';

function policyLine(p: PolicyVerdict): string {
  if (p.verdict === 'allowed')
    return p.by ? `allowed by SecretsRotationPolicy ${p.by}` : 'allowed (no policy governs the namespace)';
  if (p.verdict === 'refused') return `REFUSED: ${p.message ?? ''}`;
  return `unknown: ${p.message ?? ''}`;
}

function windowsLine(i: MappingImpact): string {
  const w = i.windows;
  if (!w.configured.length) return 'none (restarts at any time)';
  const list = w.configured.map((x) => `"${x.schedule}" for ${x.duration} ${x.timeZone ?? 'UTC'}`).join('; ');
  if (w.problems.length) return `${list}: invalid (${w.problems.join('; ')})`;
  return `${list}: ${w.open ? 'open now' : w.opensAt ? `closed, next opens at ${w.opensAt}` : 'closed, none opens within four years'}`;
}

function rolloutLine(i: MappingImpact): string {
  const r = i.rollout;
  if (r.strategy !== 'Staged') return 'AllAtOnce';
  return `Staged: ${r.stageSize} per stage, ${r.stages} stage(s), pause ${r.pause}, onFailure ${r.onFailure}`;
}

const note = (t: ImpactTarget): string =>
  [
    t.exists ? '' : 'missing',
    t.blocked ? `${t.blocked}: will not roll by itself` : '',
    t.waitsForSync.length ? `waits for ESO sync of ${t.waitsForSync.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ') || '-';

/** One mapping's block: what it is, what decides, and its targets in stage order. Pure. */
function block(i: MappingImpact): string {
  const header = [
    `${i.namespace}/${i.name}   secretId ${i.secretId}   matched by ${i.matchedBy}${i.secretArn ? ` (${i.secretArn})` : ''}`,
    `  outcome:  ${i.outcome}`,
    `  policy:   ${policyLine(i.policy)}`,
    `  windows:  ${windowsLine(i)}`,
    `  rollout:  ${rolloutLine(i)}${i.minRestartInterval ? `, minRestartInterval ${i.minRestartInterval}` : ''}${i.suspend ? ', suspended' : ''}`,
  ];
  if (!i.consumersKnown)
    header.push(
      '  consumers: not shown (SecretProviderClasses or ExternalSecrets not served or not readable)',
    );
  if (!i.targets.length) return [...header, '  no targets'].join('\n');
  const table = renderTable({
    headers: ['STAGE', 'WORKLOAD', 'VIA', 'ROLLOUT', 'NOTE'],
    rows: i.targets.map((t) => [
      t.stage === undefined ? '-' : String(t.stage),
      `${t.kind}/${t.name}`,
      t.via.join(',') || '-',
      t.rollout ?? '-',
      note(t),
    ]),
  });
  return [...header, ...table.split('\n').map((l) => `  ${l}`)].join('\n');
}

/** The impact report as text. Pure. */
export function impactText(secret: string, impacts: MappingImpact[]): string {
  if (!impacts.length) return `No SecretsRotationMapping watches ${secret}: a rotation restarts nothing.`;
  const n = impacts.length;
  return [`${n} mapping(s) watch ${secret}:`, ...impacts.map(block)].join('\n\n');
}
