import net from 'node:net';

/**
 * `node pod-relay.js <address> <port>...`: accepts on address:port and pipes each connection to
 * 127.0.0.1:port (see startPodRelay). A connection that fails on one side is closed on the other.
 */
function relay(address: string, port: number): void {
  net
    .createServer((inbound) => {
      const outbound = net.connect(port, '127.0.0.1');
      inbound.pipe(outbound).pipe(inbound);
      inbound.once('error', () => outbound.destroy());
      outbound.once('error', () => inbound.destroy());
      inbound.once('close', () => outbound.destroy());
      outbound.once('close', () => inbound.destroy());
    })
    .listen(port, address, () => {
      console.log(JSON.stringify({ msg: 'relaying', address, port }));
    });
}

const [address, ...ports] = process.argv.slice(2);
if (!address || ports.length === 0) throw new Error('usage: pod-relay <address> <port>...');
for (const p of ports) relay(address, Number(p));
