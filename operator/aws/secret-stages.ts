import { UpdateSecretVersionStageCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AccessDeniedError } from '../runtime/errors.js';

/** AWS refused the move because AWSCURRENT is not on the version it was to be removed from. */
export class CurrentMovedError extends Error {}

/** A move call's outcome: made, refused by the compare-and-swap, denied by IAM, or failed otherwise. */
export type MoveResult = 'success' | 'refused' | 'access_denied' | 'error';

/** The one write the operator may make in Secrets Manager, and only with an opt-in (see docs/staged-restarts.md). */
export interface CurrentMover {
  /**
   * Moves AWSCURRENT of the secret `arn` from `from` to `to`, as a compare-and-swap: AWS refuses when
   * AWSCURRENT is not on `from` (CurrentMovedError). AccessDeniedError: the role may not.
   */
  moveCurrent(arn: string, to: string, from: string): Promise<void>;
}

/**
 * One UpdateSecretVersionStage with RemoveFromVersionId: Secrets Manager (and the local emulator,
 * e2e/revert.test.ts checks) answers InvalidParameterException when the label is not on that
 * version, so a secret rotated or moved by someone else meanwhile is never moved by us. Never reads
 * a value.
 */
export class SecretStageMover implements CurrentMover {
  constructor(
    private readonly client: SecretsManagerClient,
    /** Each call's result (aws_calls_total{operation="UpdateSecretVersionStage"}): a revert made is rare and worth an alert. */
    private readonly onCall?: (result: MoveResult) => void,
  ) {}

  async moveCurrent(arn: string, to: string, from: string): Promise<void> {
    try {
      await this.send(arn, to, from);
      this.onCall?.('success');
    } catch (err) {
      this.onCall?.(
        err instanceof AccessDeniedError
          ? 'access_denied'
          : err instanceof CurrentMovedError
            ? 'refused'
            : 'error',
      );
      throw err;
    }
  }

  private async send(arn: string, to: string, from: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: to,
          RemoveFromVersionId: from,
        }),
      );
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (name === 'AccessDeniedException' || name === 'AccessDenied')
        throw new AccessDeniedError(`UpdateSecretVersionStage denied for "${arn}"`, { cause: err });
      if (name === 'InvalidParameterException')
        throw new CurrentMovedError(`AWSCURRENT of "${arn}" is not on version ${from}`, { cause: err });
      throw err;
    }
  }
}
