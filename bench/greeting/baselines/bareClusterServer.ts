// The bare node:net baseline (bareNetServer.ts) in N processes sharing one port through
// node:cluster, as `--workers N` runs ours: the primary forks the workers and, once every one
// listens, prints `listening <port>`; each worker runs startBareServer. SIGTERM to the primary
// stops the workers (each closes its listener and destroys its sockets) and the primary exits 0
// once they have all exited. Used for the 50,000-connection idle scenario, where one process
// could not hold all the descriptors.
//
//   node dist/bench/greeting/baselines/bareClusterServer.js --workers N [--reply-timeout MS]

import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../../../src/core/config.js';
import { startBareServer } from './bareNetServer.js';

/** Time the workers get to exit after SIGTERM before they are killed. */
const stopTimeoutMs = 10_000;

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '4' },
    'reply-timeout': { type: 'string', default: String(10 * 60_000) },
  },
});
const workers = Number(values.workers);
const replyTimeoutMs = Number(values['reply-timeout']);

if (cluster.isPrimary) {
  let listening = 0;
  let port = 0;
  cluster.on('listening', (_worker, address) => {
    port = address.port;
    listening += 1;
    if (listening === workers) process.stdout.write(`listening ${port}\n`);
  });
  for (let i = 0; i < workers; i += 1) {
    // Port 0 in a cluster: the primary binds once and every worker shares that port.
    cluster.fork();
  }
  process.on('SIGTERM', () => {
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, stopTimeoutMs).unref();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  });
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
} else {
  const server = startBareServer({
    host: '127.0.0.1',
    port: 0,
    greeting: defaultConfig.greeting,
    maxLineBytes: defaultConfig.maxReplyBytes,
    backlog: defaultConfig.listenBacklog,
    replyTimeoutMs,
    onReply: () => {},
  });
  process.on('SIGTERM', () => {
    void server.shutdown().then(() => process.exit(0));
  });
}
