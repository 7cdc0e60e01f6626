// Where every benchmark listens and connects: loopback only. Here too the two ways of getting a
// port that the servers under test share.

import net from 'node:net';

/** Every server under test listens, and every client connects, on this address. */
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

/** A port that was free a moment ago (for servers that cannot listen on port 0 and say which they got). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
