// --websocket from the command line (the built CLI): what it says when it listens, when the
// port is taken and when the flag makes no sense.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { run, serverBin } from '../process.js';

describe('--websocket on the command line', () => {
  it('says where the web client is, and exits 0 on SIGTERM', async () => {
    const r = run(serverBin, ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--websocket', '127.0.0.1:0']);
    const m = await r.waitForLine(/^Web client at (http:\/\/127\.0\.0\.1:(\d+)\/) \(IRC over WebSocket at ws:\/\/127\.0\.0\.1:(\d+)\/\)$/m);
    expect(m[2]).toBe(m[3]);
    await r.waitForLine(/IRC server listening on 127\.0\.0\.1:\d+/);
    const page = await fetch(m[1]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Chat</title>');
    r.proc.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it('exits 1 with one line when the WebSocket port is taken, before claiming the IRC port', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    const r = run(serverBin, ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--websocket', `127.0.0.1:${taken}`]);
    const { code } = await r.exited;
    holder.close();
    expect(code).toBe(1);
    expect(r.stderr()).toBe(`error: websocket: port ${taken} is already in use on 127.0.0.1\n`);
    expect(r.stdout()).not.toContain('listening');
  });

  it('refuses --websocket without --protocol irc, in one line', async () => {
    const r = run(serverBin, ['--websocket', '0']);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toBe('xstate-tcp-chat: --websocket is for --protocol irc (it carries IRC to browsers)\n');
  });
});
