// Preloaded into a Node server under test (`node --expose-gc --import <this file> server.js ...`)
// by the IRC benchmark's idle-clients measurement (sessionCost.ts), so that it can ask a
// spawned server (our CLI, the bare relay: no IPC channel to either) for its heap after a full GC.
// On SIGUSR2 it collects twice (the second pass frees what the first one's finalizers let go) and
// prints one line on stdout, where the benchmark already reads the server's output:
//   bench.heap <heapUsed bytes> <rss bytes>
// Nothing else runs in the server's process; a signal handler does not keep its event loop alive.

const gc = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', function processOnSigusr2() {
  if (!gc) {
    process.stdout.write('bench.heap error: start node with --expose-gc\n');
    return;
  }
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  process.stdout.write(`bench.heap ${heapUsed} ${rss}\n`);
});
