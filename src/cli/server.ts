#!/usr/bin/env node
// The server command: flags in, a running server out. It picks the log sink and turns
// SIGINT/SIGTERM into `server.shutdown` events; how shutdown happens is the machine's business.
// Exit codes: 0 after a shutdown, 1 when the address could not be claimed, 2 for bad flags.

import { startServer } from '../adapters/tcpServer.js';
import { ChatError } from '../errors.js';
import { humanLogger, jsonLogger } from '../logger.js';
import { parseServerArgs, serverUsage } from './args.js';

function main(argv: string[]): void {
  let parsed;
  try {
    parsed = parseServerArgs(argv);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    process.stderr.write(`xstate-tcp-chat: ${err.message}\n\n${serverUsage()}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${serverUsage()}\n`);
    return;
  }
  const config = parsed.options;
  const logger = config.logFormat === 'json' ? jsonLogger() : humanLogger();
  const server = startServer(config, { logger });

  // The first signal asks for a graceful stop; a second one forces it (the machine's choice).
  const onSignal = (): void => server.shutdown();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  void server.done.then((outcome) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.exitCode = outcome.state === 'failed' ? 1 : 0;
    // Everything the server owned is closed by now, so the process ends on its own. If some
    // handle still held it, that would be a bug; do not let it hang an operator's terminal.
    setTimeout(() => process.exit(), 1_000).unref();
  });
}

main(process.argv.slice(2));
