/** What the SQS pipeline tells the reconcile loop: this mapping's secret may have a new current value. */
export interface RotationSignal {
  /**
   * When the DescribeSecret call that saw the change started (epoch ms): a pass that acted on secret
   * information at least this recent has recorded the change.
   */
  observedAt: number;
  /**
   * Aborted when the message behind the signal went back to SQS unrecorded (held past
   * MESSAGE_MAX_HOLD): nobody waits for it any more, its redelivery brings a new signal.
   */
  withdrawn?: AbortSignal;
}
