/**
 * Which mappings watch which secret, by resolved ARN: events and mappings may name a secret by name,
 * full ARN or partial ARN, so matching is only ever done on the ARN DescribeSecret returned.
 */
export class MappingIndex {
  private readonly arnByKey = new Map<string, string>();

  set(key: string, arn: string): void {
    this.arnByKey.set(key, arn);
  }

  delete(key: string): void {
    this.arnByKey.delete(key);
  }

  keysFor(arn: string): string[] {
    return [...this.arnByKey].filter(([, a]) => a === arn).map(([k]) => k);
  }

  arns(): Set<string> {
    return new Set(this.arnByKey.values());
  }
}
