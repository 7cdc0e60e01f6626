// The server under test, alone in its own process (lib/forkedServer.ts) so that its memory and
// CPU are not mixed with the load generator's. argv[2] picks `ours` (startServer from src/,
// silent logger) or `baseline` (baselines/bareNetServer.ts); both listen on 127.0.0.1 port 0.
// Exit codes: 0 a clean stop, 3 connections had to be destroyed, 4 no stop in time.

import { startServer } from '../../src/core/listener.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { greetingProtocol } from '../../src/greeting/session.js';
import { serveForked, type ServedServer } from '../lib/forkedServer.js';
import { host } from '../lib/loopback.js';
import { startBareServer } from './baselines/bareNetServer.js';
import { benchReplyTimeoutMs } from './servers.js';

/** Our server's connection cap in the benchmark: above every client count it is given, so none is turned away. */
const benchMaxConnections = 30_000;

function start(kind: 'ours' | 'baseline'): ServedServer {
  if (kind === 'ours') {
    const config = { ...defaultConfig, host, port: 0, replyTimeoutMs: benchReplyTimeoutMs, maxConnections: benchMaxConnections };
    const handle = startServer(config, greetingProtocol(config, silentLogger, undefined), { logger: silentLogger });
    return {
      listening: handle.listening,
      liveConnections: () => handle.liveConnections(),
      stop: async () => {
        handle.shutdown();
        const outcome = await handle.done;
        return outcome.state === 'stopped' && !outcome.forced ? 0 : 3;
      },
    };
  }
  const handle = startBareServer({
    host,
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
      return 0;
    },
  };
}

const kind = process.argv[2];
if (kind !== 'ours' && kind !== 'baseline') {
  process.stderr.write('usage: serverProcess.js ours|baseline\n');
  process.exit(2);
}
// A stop may take our server's grace period; past that and a margin the process exits anyway.
serveForked('serverProcess.js', () => start(kind), { ms: defaultConfig.shutdownGraceMs + 2_000, exitCode: 4 });
