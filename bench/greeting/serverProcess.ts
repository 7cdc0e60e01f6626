// The server under test, alone in its own process so that its memory and CPU are not mixed
// with the load generator's. Forked by bench/greeting/run.ts with --expose-gc; argv[2] picks `ours`
// (startServer from src/, silent logger) or `baseline` (bench/greeting/baselines/bareNetServer.ts).
// Both listen on 127.0.0.1 port 0 and report the port, then answer memory and CPU requests
// over IPC until told to stop.

import { startServer } from '../../src/core/listener.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { greetingProtocol } from '../../src/greeting/session.js';
import { startBareServer } from './baselines/bareNetServer.js';
import { benchMaxConnections, benchReplyTimeoutMs, isParentMessage, type ChildMessage, type ServerKind } from '../lib/ipc.js';

/** How long a stop may take, past our server's own grace period, before the process exits anyway (code 4). */
const stopTimeoutMs = defaultConfig.shutdownGraceMs + 2_000;

interface UnderTest {
  listening: Promise<{ address: string; port: number }>;
  liveConnections(): number;
  /** Resolves true when the stop was clean (ours: no connection had to be destroyed). */
  stop(): Promise<boolean>;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

function start(kind: ServerKind): UnderTest {
  if (kind === 'ours') {
    const config = {
      ...defaultConfig,
      host: '127.0.0.1',
      port: 0,
      replyTimeoutMs: benchReplyTimeoutMs,
      maxConnections: benchMaxConnections,
    };
    const handle = startServer(config, greetingProtocol(config, silentLogger, undefined), { logger: silentLogger });
    return {
      listening: handle.listening,
      liveConnections: () => handle.liveConnections(),
      stop: async () => {
        handle.shutdown();
        const outcome = await handle.done;
        return outcome.state === 'stopped' && !outcome.forced;
      },
    };
  }
  const handle = startBareServer({
    host: '127.0.0.1',
    port: 0,
    greeting: defaultConfig.greeting,
    maxLineBytes: defaultConfig.maxReplyBytes,
    backlog: defaultConfig.listenBacklog,
    replyTimeoutMs: benchReplyTimeoutMs,
    onReply: () => {},
  });
  return {
    listening: handle.listening,
    liveConnections: () => handle.liveConnections(),
    stop: async () => {
      await handle.shutdown();
      return true;
    },
  };
}

/** A full collection, twice: the second one frees what finalizers of the first released. */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('serverProcess needs --expose-gc');
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

function main(): void {
  const kind = process.argv[2];
  if (kind !== 'ours' && kind !== 'baseline') {
    process.stderr.write('usage: serverProcess.js ours|baseline\n');
    process.exit(2);
  }
  if (!process.send) {
    process.stderr.write('serverProcess.js must be started with child_process.fork\n');
    process.exit(2);
  }
  const server = start(kind);
  server.listening.then(
    ({ port }) => send({ type: 'listening', port }),
    (err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    },
  );

  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return;
    switch (message.type) {
      case 'memory':
        void collect().then(() =>
          send({ type: 'memory', id: message.id, usage: process.memoryUsage(), live: server.liveConnections() }),
        );
        break;
      case 'cpu':
        send({ type: 'cpu', id: message.id, usage: process.cpuUsage(), live: server.liveConnections() });
        break;
      case 'stop':
        // Exit codes: 0 a clean stop, 3 connections had to be destroyed, 4 no stop in time.
        setTimeout(() => process.exit(4), stopTimeoutMs).unref();
        void server.stop().then((clean) => process.exit(clean ? 0 : 3));
        break;
    }
  });
  // The parent went away: do not outlive it.
  process.on('disconnect', () => process.exit(0));
}

main();
