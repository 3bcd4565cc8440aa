/**
 * What the bundle gives client-node for `isomorphic-ws`: only its WebSocketHandler imports it, for
 * exec, attach, cp and port-forward, which the operator never calls (and its RBAC grants none of).
 * Loading `ws` cost 1.1 MiB of heap. bundle-standins.test.ts checks that nothing else imports it.
 */
export default class WebSocket {
  static readonly OPEN = 1;

  constructor() {
    throw new Error('this build opens no WebSocket: exec, attach and port-forward are not in the operator');
  }
}
