// --inspect-ws: the inspection events reach a WebSocket endpoint (a local one here, standing in
// for Stately's inspector) with actor, event and snapshot messages for a real connection, and
// with no client bytes in them.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startStatelyInspector } from '../../src/ops/inspect/statelyInspector.js';
import { startServer } from '../../src/core/listener.js';
import { defaultConfig } from '../../src/core/config.js';
import { connect, converse, waitFor, serve } from '../helpers.js';
import { run, serverBin } from '../process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Message {
  type: string;
  sessionId?: string;
  event?: { type: string; [k: string]: unknown };
  snapshot?: { value?: unknown; context?: Record<string, unknown> };
  [k: string]: unknown;
}

async function receiver() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const messages: Message[] = [];
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const parsed = JSON.parse(data.toString()) as Message | Message[];
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) messages.push(m);
    });
  });
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, messages, wss };
}

const connectionSnapshots = (messages: Message[]) =>
  messages.filter((m) => m.type === '@xstate.snapshot' && m.snapshot?.context && 'remote' in m.snapshot.context);

describe('WebSocket inspector (@statelyai/inspect)', () => {
  it('receives actor, event and snapshot messages for a connection, without its bytes', async () => {
    const { url, messages, wss } = await receiver();
    const stately = startStatelyInspector(url);
    cleanups.push(() => {
      stately.stop();
      for (const c of wss.clients) c.terminate();
    });
    const server = serve({ ...defaultConfig, host: '127.0.0.1', port: 0 }, { inspect: stately.inspect });
    cleanups.push(async () => {
      server.shutdown();
      await server.done;
    });
    const { port } = await server.listening;
    await converse(port, 'secret reply bytes\n');
    await waitFor(
      () => connectionSnapshots(messages).some((m) => m.snapshot?.value === 'closed'),
      10_000,
      `the connection's final snapshot; got ${messages.length} messages`,
    );
    const types = new Set(messages.map((m) => m.type));
    for (const t of ['@xstate.actor', '@xstate.event', '@xstate.snapshot']) expect(types.has(t)).toBe(true);
    const events = messages.filter((m) => m.type === '@xstate.event').map((m) => m.event?.type);
    expect(events).toEqual(expect.arrayContaining(['socket.written', 'socket.data', 'socket.close', 'sessions.changed']));
    // Byte buffers are sent as their length, never as the bytes.
    const data = messages.find((m) => m.type === '@xstate.event' && m.event?.type === 'socket.data')!;
    expect(data.event!.bytes).toEqual({ bytes: 19 });
    for (const m of connectionSnapshots(messages)) expect(m.snapshot!.context!.buffered).toEqual(expect.objectContaining({ bytes: expect.any(Number) }));
    expect(JSON.stringify(messages)).not.toContain('"0":115'); // no serialised Uint8Array of "secret..."
  });

  it('is wired to the CLI by --inspect-ws', async () => {
    const { url, messages, wss } = await receiver();
    cleanups.push(() => {
      for (const c of wss.clients) c.terminate();
    });
    const r = run(serverBin, ['--host', '127.0.0.1', '--port', '0', '--inspect-ws', url]);
    cleanups.push(() => void r.proc.kill('SIGKILL'));
    const m = await r.waitForLine(/listening on 127\.0\.0\.1:(\d+)/);
    expect(r.stdout()).toContain(`Inspector: streaming inspection events to ${url}`);
    await converse(Number(m[1]), 'hello\n');
    await waitFor(() => connectionSnapshots(messages).some((x) => x.snapshot?.value === 'closed'), 10_000, 'snapshots from the CLI');
    r.proc.kill('SIGINT');
    expect((await r.exited).code).toBe(0);
  });

  it('in IRC mode sends the commands clients ran but never their parameters or quit text', async () => {
    const { url, messages, wss } = await receiver();
    const stately = startStatelyInspector(url);
    cleanups.push(() => {
      stately.stop();
      for (const c of wss.clients) c.terminate();
    });
    const server = serve(
      { ...defaultConfig, protocol: 'irc', host: '127.0.0.1', port: 0 },
      { inspect: stately.inspect },
    );
    cleanups.push(async () => {
      server.shutdown();
      await server.done;
    });
    const { port } = await server.listening;
    const client = await connect(port);
    client.socket.write('NICK spy\r\nUSER s 0 * :Secret Realname\r\nJOIN #private-plans\r\n');
    client.socket.write('PRIVMSG #private-plans :the launch code is 0000\r\nQUIT :gone to the bunker\r\n');
    await client.closed;
    await waitFor(
      () => messages.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'closed'),
      10_000,
      `the session's final snapshot; got ${messages.length} messages`,
    );
    const commands = messages
      .filter((m) => m.type === '@xstate.event' && m.event?.type === 'irc.message')
      .map((m) => m.event!.message);
    expect(commands).toEqual([
      { command: 'NICK', params: 1 },
      { command: 'USER', params: 4 },
      { command: 'JOIN', params: 1 },
      { command: 'PRIVMSG', params: 2 },
      { command: 'QUIT', params: 1 },
    ]);
    const all = JSON.stringify(messages);
    for (const secret of ['launch code', 'private-plans', 'bunker', 'Secret Realname']) expect(all).not.toContain(secret);
  });
});
