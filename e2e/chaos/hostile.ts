import { putSecretValueEvent } from '../harness.js';

/** Kinds of bad input the chaos run sends straight to the queue. */
export const HOSTILE_KINDS = [
  'huge',
  'deeply-nested',
  'wrong-types',
  'other-source',
  'not-json',
  'sns-garbage',
  'unknown-secret',
  'empty-object',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** The body of one hostile message; `secret` is a real mapped secret, so hostile shapes look close to real. */
export function hostileBody(kind: HostileKind, secret: { name: string; arn: string }): string {
  const event = (detail: object, source = 'aws.secretsmanager'): Record<string, unknown> => ({
    source,
    'detail-type': 'AWS API Call via CloudTrail',
    time: new Date().toISOString(),
    detail,
  });
  switch (kind) {
    case 'huge':
      // Just under SQS's 256 KiB: a valid-looking event carrying a huge field.
      return JSON.stringify({ ...event({}), padding: 'x'.repeat(250_000) });
    case 'deeply-nested':
      return '['.repeat(50_000) + ']'.repeat(50_000);
    case 'wrong-types':
      return JSON.stringify({ source: ['aws.secretsmanager'], 'detail-type': 7, detail: 'PutSecretValue' });
    case 'other-source':
      return JSON.stringify(event(putSecretValueEvent(secret.name, secret.arn, 'v'), 'aws.ec2'));
    case 'not-json':
      return '{"source": "aws.secretsmanager", "detail-type": ';
    case 'sns-garbage':
      return JSON.stringify({ Type: 'Notification', Message: '{{{ not an event' });
    case 'unknown-secret': {
      const arn = secret.arn.replace(/secret:.*/, 'secret:no-such-secret-AbCdEf');
      return JSON.stringify(event(putSecretValueEvent('no-such-secret', arn, 'v')));
    }
    case 'empty-object':
      return '{}';
  }
}
