// --workers: several server processes on one port under a primary that is itself a machine.
// Real processes, real signals: a worker killed under load is replaced while the other keeps
// serving; a signal to the primary drains every worker and exits 0.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, converse, waitFor } from '../helpers.js';
import { run, runServer, serverBin, type Running } from '../process.js';

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.proc.kill('SIGKILL');
});

async function cluster(args: string[] = []) {
  const r = await runServer(['--workers', '2', ...args]);
  running.push(r);
  await r.waitForLine(/listening on 127\.0\.0\.1:\d+ \(2 workers\)/);
  return r;
}

const workerPids = (out: string) => new Map([...out.matchAll(/started worker (\d+) \(pid (\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('--workers', () => {
  it('serves from every worker, says which one served a client, and drains them all on SIGINT', async () => {
    const s = await cluster();
    await Promise.all(Array.from({ length: 20 }, (_, i) => converse(s.port, `client ${i}\n`)));
    await waitFor(() => (s.stdout().match(/Client Response Payload/g) ?? []).length === 20, 5_000, '20 payload lines');
    expect(s.stdout()).toMatch(/^\[worker 1\] #\d+ Client Response Payload: client \d+$/m);
    expect(s.stdout()).toMatch(/^\[worker 2\] #\d+ Client Response Payload: client \d+$/m);
    const pids = workerPids(s.stdout());
    expect(pids.size).toBe(2);
    s.proc.kill('SIGINT');
    expect((await s.exited).code).toBe(0);
    expect(s.stdout()).toContain('All workers stopped.');
    for (const pid of pids.values()) expect(alive(pid)).toBe(false);
    expect(s.stderr()).toBe('');
  });

  it('replaces a worker killed with SIGKILL under load while the other keeps serving', async () => {
    const s = await cluster();
    let ok = 0;
    let failed = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        try {
          const got = await converse(s.port, 'load\n');
          if (got === "Hey What's up?\n") ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    let victim = 0;
    try {
      await waitFor(() => ok > 50, 10_000, 'load running');
      victim = workerPids(s.stdout()).get(1)!;
      process.kill(victim, 'SIGKILL');
      // A worker's death is an error: it goes to stderr.
      await waitFor(() => s.stderr().includes(`worker 1 (pid ${victim}) died (SIGKILL); starting a new one`), 5_000, 'the death logged');
      const okAtDeath = ok;
      await s.waitForLine(/^\[worker 3\] Socket server listening/m);
      await waitFor(() => ok > okAtDeath + 100, 10_000, 'serving after the restart');
      await waitFor(() => /^\[worker 3\] #\d+ Client Response Payload: load$/m.test(s.stdout()), 10_000, 'the new worker serving');
    } catch (err) {
      // Stop the clients even when a wait failed, so they do not load the rest of the file; kill
      // the cluster too, so no client waits on a server that stopped answering.
      stop = true;
      s.proc.kill('SIGKILL');
      throw err;
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    // Only exchanges in flight on the killed worker can fail.
    expect(failed).toBeLessThan(10);
    expect(alive(victim)).toBe(false);
    s.proc.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('exits 0 within the grace period when a client will not close', async () => {
    const s = await cluster(['--shutdown-grace', '500', '--close-timeout', '60000']);
    const stubborn = await connect(s.port);
    stubborn.socket.pause();
    // The worker has accepted it (it will hold the drain up to the grace period).
    await s.waitForLine(/^\[worker \d\] #\d+ Connection established from /m);
    const sentAt = Date.now();
    s.proc.kill('SIGTERM');
    const { code, at } = await s.exited;
    expect(code).toBe(0);
    expect(at - sentAt).toBeLessThan(500 + 1_000 + 1_000);
    expect(s.stdout()).toContain('grace period over');
    stubborn.socket.destroy();
  });

  it('says a busy port once and exits 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = run(serverBin, ['--host', '127.0.0.1', '--port', String(port), '--workers', '2']);
      running.push(r);
      expect((await r.exited).code).toBe(1);
      expect(r.stderr()).toBe(`error: port ${port} is already in use on 127.0.0.1\n`);
    } finally {
      blocker.close();
    }
  });

  it('names the host as given, as its workers do (localhost, not the address it resolved to)', async () => {
    const r = run(serverBin, ['--host', 'localhost', '--port', '0', '--workers', '2']);
    running.push(r);
    const port = (await r.waitForLine(/^Socket server listening on localhost:(\d+) \(2 workers\)$/m, 15_000))[1];
    // A worker's output reaches the primary by a pipe and its "listening" by IPC: the two
    // race, so the worker's line may come after the primary's.
    await r.waitForLine(new RegExp(`^\\[worker 1\\] Socket server listening on localhost:${port}$`, 'm'), 5_000);
    await r.waitForLine(new RegExp(`^\\[worker 2\\] Socket server listening on localhost:${port}$`, 'm'), 5_000);
  });

  it('refuses --inspect with more than one worker', async () => {
    const r = run(serverBin, ['--workers', '2', '--inspect', '0']);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toContain('--inspect and --inspect-ws work with --workers 1 only');
  });
});
