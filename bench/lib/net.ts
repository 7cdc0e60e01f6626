// Loopback networking shared by every benchmark: the one address servers listen on and clients
// connect to, and listening with the error as a rejection.

import type net from 'node:net';

/** Everything listens and connects on loopback only. */
export const host = '127.0.0.1';

/** Listens as asked; resolves with the address claimed, rejects with the listen error. */
export function listenOn(server: net.Server, options: { host: string; port: number; backlog?: number }): Promise<{ address: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({ address: address.address, port: address.port });
    });
  });
}
