import { createServer } from 'node:net';

/**
 * A loopback TCP port nothing listens on right now, found by letting the kernel pick one and
 * closing it again. For servers that must be told their port before they start: the SDK's
 * metrics exporter, which cannot report the one it bound, and the servers scripts and tests
 * start.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
