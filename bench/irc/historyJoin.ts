// Joining a channel with history, for run.ts (`npm run bench:irc -- --only history-join`), issue
// 22: what a JOIN with its replay costs ours against a plain JOIN. Our JOIN replays nothing by
// itself (a client asks: docs/history.md), so the replay is what a client with draft/chathistory
// does on joining: `CHATHISTORY LATEST <channel> * 100`.
//   - One server of ours per run, `--history on`, in a --data-dir of its own; a filler client (in
//     this process) joins #history and #plain, says historyMessages lines in #history, and stays
//     in both, so that neither channel empties between the storm's clients.
//   - On it, three registration storms (sessionCost.ts, a closed loop), the first changing from
//     run to run: `register` (NICK/USER → 001 → QUIT), `join` (CAP REQ of historyCaps, then JOIN
//     #plain → 366 → QUIT), and `replay` (the same caps, then JOIN #history → 366 → CHATHISTORY
//     LATEST → the end of its batch → QUIT): join and replay differ by the replay alone. Both channels keep their JOINs and QUITs as events (replayed only with
//     draft/event-playback, which is not asked for), so they differ by the messages alone.
//   - The figure: server CPU per cycle of each; the join's own cost is the difference over
//     `register`, and the ratio is replay's over join's.

import net from 'node:net';
import { host } from '../lib/loopback.js';
import { rotate } from '../lib/stats.js';
import { withTimeout } from '../lib/wait.js';
import type { IrcBench } from './measure.js';
import { tempDir } from './peers.js';
import type { IrcRegistrationFigures } from './results.js';
import { stormWindow, type SessionFor, type StormSettings } from './sessionCost.js';

export type HistoryJoinForm = 'register' | 'join' | 'replay';
export const historyJoinForms: readonly HistoryJoinForm[] = ['register', 'join', 'replay'];

/** Messages said in #history before the storms, and how many each replay asks for. */
export const historyMessages = 500;
export const historyLatest = 100;
/** What the replaying clients enable, as a client that reads history would. */
export const historyCaps = 'batch server-time message-tags draft/chathistory';
const historyChannel = '#history';
const plainChannel = '#plain';
const messageText = 'a line of the channel history, long enough to look like chat and not a test of empty lines';
/** The filler's registration, joins and lines, at most. */
const fillTimeoutMs = 30_000;

const sessions: Record<HistoryJoinForm, SessionFor | undefined> = {
  register: undefined,
  join: () => ({ caps: historyCaps, join: { channel: plainChannel, latest: null } }),
  replay: () => ({ caps: historyCaps, join: { channel: historyChannel, latest: historyLatest } }),
};

/**
 * The filler: registered, in both channels, its lines said and (a PONG after them) taken by the
 * server; it stays until `close`, answering PINGs.
 */
async function startFiller(port: number): Promise<{ close(): void }> {
  const socket = net.connect({ host, port });
  socket.setEncoding('latin1');
  const close = (): void => void socket.destroy();
  const ready = new Promise<void>((resolve, reject) => {
    let partial = '';
    let joins = 0;
    socket.on('connect', () => socket.write('NICK hfiller\r\nUSER u 0 * :history filler\r\n'));
    socket.on('data', (chunk: string) => {
      partial += chunk;
      for (let lf = partial.indexOf('\n'); lf !== -1; lf = partial.indexOf('\n')) {
        const line = partial.slice(0, lf).replace(/\r$/, '');
        partial = partial.slice(lf + 1);
        const [, verb, , arg] = line.split(' ', 4);
        if (line.startsWith('PING')) socket.write(`PONG${line.slice(4)}\r\n`);
        else if (verb === '001') socket.write(`JOIN ${historyChannel},${plainChannel}\r\n`);
        else if (verb === '366' && ++joins === 2) {
          const lines = Array.from({ length: historyMessages }, (_, i) => `PRIVMSG ${historyChannel} :${i} ${messageText}\r\n`);
          socket.write(`${lines.join('')}PING :filled\r\n`);
        } else if (verb === 'PONG' && (arg === ':filled' || arg === 'filled')) resolve();
        else if (verb !== undefined && /^4\d\d$/.test(verb)) reject(new Error(`the history filler got: ${line}`));
      }
    });
    socket.on('error', (err) => reject(err));
    socket.on('close', () => reject(new Error('the history filler was closed')));
  });
  try {
    await withTimeout(ready, fillTimeoutMs, 'the history filler');
  } catch (err) {
    close();
    throw err;
  }
  return { close };
}

/** One run: a server of ours with #history filled, and a storm of each form on it, `run` choosing the first. */
export async function measureHistoryJoin(h: IrcBench, run: number, s: StormSettings): Promise<Record<HistoryJoinForm, IrcRegistrationFigures>> {
  const dir = tempDir('irc-history-join-');
  try {
    await h.loadProcesses();
    const busyBefore = await h.awaitQuiet();
    const server = await h.startServer('ours', { oursArgs: ['--data-dir', dir.path, '--history', 'on'] });
    let filler: { close(): void } | null = null;
    let stopped = false;
    try {
      filler = await startFiller(server.ports[0]!);
      const out: Partial<Record<HistoryJoinForm, IrcRegistrationFigures>> = {};
      for (const form of rotate(historyJoinForms, run - 1)) out[form] = await stormWindow(h, 'ours', server, s, sessions[form], busyBefore);
      filler.close();
      filler = null;
      const stop = await server.stop();
      stopped = true;
      return { register: { ...out.register!, stop }, join: { ...out.join!, stop }, replay: { ...out.replay!, stop } };
    } finally {
      filler?.close();
      if (!stopped) await server.stop().catch(() => null);
    }
  } finally {
    dir.remove();
  }
}
