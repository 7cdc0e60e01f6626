// A load-generator process: forked by the benchmark (bench/greeting/loadgenFork.ts), it runs the clients
// of bench/greeting/loadgen.ts on request over IPC and answers with their figures, so the clients never
// share a process (or an event loop, or a descriptor table) with a server under test or with
// the benchmark's bookkeeping. Several run at once for the idle scenarios: one process may hold
// at most 20,000 descriptors on the benchmark machine.

import { IdleClients, runClosedLoop } from './loadgen.js';
import { isLoadRequest, type LoadReply, type LoadRequest } from './loadgenIpc.js';

const idle = new IdleClients();

function send(message: LoadReply): void {
  process.send?.(message);
}

async function handle(request: LoadRequest): Promise<unknown> {
  switch (request.type) {
    case 'closedLoop':
      return runClosedLoop(request.options);
    case 'openIdle':
      return idle.open(request.options);
    case 'awaitClose':
      return idle.awaitClose(request.timeoutMs);
    case 'release':
      await idle.release(request.timeoutMs);
      return null;
  }
}

function main(): void {
  if (!process.send) {
    process.stderr.write('loadgenProcess.js must be started with child_process.fork\n');
    process.exit(2);
  }
  process.on('message', (message: unknown) => {
    if (!isLoadRequest(message)) return;
    handle(message).then(
      (result) => send({ type: 'result', id: message.id, result }),
      (err: unknown) => send({ type: 'error', id: message.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
  // The benchmark went away: do not outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

main();
