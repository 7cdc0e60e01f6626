// The server under soak, alone in its own process (forked by run.ts through lib/forkedServer.ts,
// with --expose-gc) so that its heap, RSS and descriptors are its own. It runs the real
// startServer with a silent logger and the short timeouts of config.ts.
//
// Unlike the greeting benchmark's server process its exit code is the verdict on the shutdown: 0
// only when the server machine stopped without forcing anything and no connection actor is left;
// 1 when it stopped dirty; 3 when it did not stop within the grace period plus a margin.

import { startServer } from '../../src/core/listener.js';
import { silentLogger } from '../../src/core/logger.js';
import { greetingProtocol } from '../../src/greeting/session.js';
import { serveForked } from '../lib/forkedServer.js';
import { soakServerConfig } from './config.js';

/** Beyond the server's own grace period, how long a stop may take before we give up on it. */
const stopMarginMs = 3_000;

serveForked(
  'soak/server.js',
  () => {
    const handle = startServer(soakServerConfig, greetingProtocol(soakServerConfig, silentLogger, undefined), { logger: silentLogger });
    return {
      listening: handle.listening,
      liveConnections: () => handle.liveConnections(),
      stop: async () => {
        handle.shutdown();
        const outcome = await handle.done;
        const live = handle.liveConnections();
        const clean = outcome.state === 'stopped' && !outcome.forced && live === 0;
        if (!clean) process.stderr.write(`soak/server.js: unclean stop (state ${outcome.state}, forced ${outcome.forced}, live ${live})\n`);
        return clean ? 0 : 1;
      },
    };
  },
  { ms: soakServerConfig.shutdownGraceMs + stopMarginMs, exitCode: 3 },
);
