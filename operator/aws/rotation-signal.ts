/** What the SQS pipeline tells the reconcile loop: this mapping's secret may have a new current value. */
export interface RotationSignal {
  /**
   * When the DescribeSecret call that saw the change started (epoch ms): a pass that acted on secret
   * information at least this recent has recorded the change.
   */
  observedAt: number;
}
