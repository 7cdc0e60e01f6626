// The floor under our handshake: what the machines alone cost, with no sockets, no timers firing
// and every side effect a no-op. One connection's life is the four events a handshake brings
// (start, socket.written, a reply line, socket.close), run by the lean runner our server uses
// and, for comparison, by XState's createActor; plus one server-machine step (it is stepped only
// when the session count crosses a boundary). Added to the bare node:net handshake's CPU, the
// lean life is the least any adapter could reach while XState's interpreter runs this machine.

import { createActor } from 'xstate';
import { connectionLimits, defaultConfig } from '../../src/core/config.js';
import { connectionMachine } from '../../src/greeting/connectionMachine.js';
import { serverMachine } from '../../src/core/serverMachine.js';
import { LeanActor } from '../../src/core/leanActor.js';
import type { FloorResult } from './results.js';
import { median } from '../lib/stats.js';

const limits = connectionLimits({ ...defaultConfig, replyTimeoutMs: 600_000 });
const reply = Buffer.from('hello from the benchmark\n');

function connectionLives(n: number, runner: 'lean' | 'actor'): void {
  for (let i = 0; i < n; i++) {
    const input = { id: i, remote: '127.0.0.1:40000', limits };
    const actor = runner === 'lean' ? new LeanActor(connectionMachine, input) : createActor(connectionMachine, { input });
    actor.subscribe({ complete: () => {}, error: () => {} });
    actor.start();
    actor.send({ type: 'socket.written' });
    actor.send({ type: 'socket.data', bytes: reply });
    actor.send({ type: 'socket.close' });
    if (actor.getSnapshot().status !== 'done') throw new Error('floor: the connection did not finish');
  }
}

function serverSteps(n: number): void {
  const actor = createActor(serverMachine, { input: { host: '127.0.0.1', port: 0, maxConnections: 10_000, shutdownGraceMs: 1_000 } });
  actor.subscribe({ error: () => {} });
  actor.start();
  actor.send({ type: 'server.start' });
  actor.send({ type: 'net.listening', host: '127.0.0.1', port: 1 });
  for (let i = 0; i < n / 2; i++) {
    actor.send({ type: 'sessions.changed', sessions: 1 });
    actor.send({ type: 'sessions.changed', sessions: 0 });
  }
  actor.stop();
}

/** CPU µs per call of `body(n)` / n: median of `rounds` after two warm-up rounds. */
function cpuPerOp(body: (n: number) => void, n: number, rounds: number): number {
  body(n);
  body(n);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage();
    body(n);
    const t = process.cpuUsage(t0);
    samples.push((t.user + t.system) / n);
  }
  return median(samples);
}

export function measureFloor(quick: boolean): FloorResult {
  const lives = quick ? 5_000 : 20_000;
  const rounds = quick ? 3 : 5;
  return {
    lives,
    rounds,
    leanLifeUs: cpuPerOp((n) => connectionLives(n, 'lean'), lives, rounds),
    actorLifeUs: cpuPerOp((n) => connectionLives(n, 'actor'), lives, rounds),
    serverStepUs: cpuPerOp(serverSteps, lives, rounds),
  };
}
