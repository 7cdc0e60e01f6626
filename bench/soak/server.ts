// The server under soak, alone in its own process (forked by bench/soak/run.ts with --expose-gc) so
// that its heap, RSS and descriptors are its own. It runs the real startServer with a silent
// logger and the short timeouts of bench/soak/config.ts, reports its port, answers the memory
// and CPU requests of bench/lib/ipc.ts, and on `stop` shuts down through `server.shutdown`.
//
// Unlike bench/greeting/serverProcess.ts its exit code is the verdict on the shutdown: 0 only when the
// server machine stopped without forcing anything and no connection actor is left; 1 when it
// stopped dirty; 3 when it did not stop within the grace period plus a margin.

import { startServer } from '../../src/core/listener.js';
import { silentLogger } from '../../src/core/logger.js';
import { greetingProtocol } from '../../src/greeting/session.js';
import { isParentMessage, type ChildMessage } from '../lib/ipc.js';
import { soakServerConfig } from './config.js';

/** Beyond the server's own grace period, how long a stop may take before we give up on it. */
const stopMarginMs = 3_000;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** A full collection, twice: the second one frees what finalizers of the first released. */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('soakServer needs --expose-gc');
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

function main(): void {
  if (!process.send) {
    process.stderr.write('soakServer.js must be started with child_process.fork\n');
    process.exit(2);
  }
  const handle = startServer(soakServerConfig, greetingProtocol(soakServerConfig, silentLogger, undefined), { logger: silentLogger });
  handle.listening.then(
    ({ port }) => send({ type: 'listening', port }),
    (err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    },
  );

  let stopping = false;
  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return;
    switch (message.type) {
      case 'memory':
        void collect().then(() =>
          send({ type: 'memory', id: message.id, usage: process.memoryUsage(), live: handle.liveConnections() }),
        );
        break;
      case 'cpu':
        send({ type: 'cpu', id: message.id, usage: process.cpuUsage(), live: handle.liveConnections() });
        break;
      case 'stop': {
        if (stopping) return;
        stopping = true;
        setTimeout(() => {
          process.stderr.write(`soakServer: no stop within ${soakServerConfig.shutdownGraceMs + stopMarginMs} ms\n`);
          process.exit(3);
        }, soakServerConfig.shutdownGraceMs + stopMarginMs).unref();
        handle.shutdown();
        void handle.done.then((outcome) => {
          const live = handle.liveConnections();
          const clean = outcome.state === 'stopped' && !outcome.forced && live === 0;
          if (!clean) {
            process.stderr.write(
              `soakServer: unclean stop (state ${outcome.state}, forced ${outcome.forced}, live ${live})\n`,
            );
          }
          process.exit(clean ? 0 : 1);
        });
        break;
      }
    }
  });
  // The parent went away: do not outlive it.
  process.on('disconnect', () => {
    if (!stopping) process.exit(0);
  });
}

main();
