// IRC over WebSocket across nodes on Redis: a WebSocket client on one node and TCP clients on
// another are in one channel and see each other as on one server (issue 12: "across nodes").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIrc } from '../irc/raw.js';
import { connectWs, type WsIrc } from '../irc/ws.js';
import { run, serverBin, type Running } from '../process.js';
import { clientPool, killNodes, startNodes, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

let redis: RedisServer;
const { fw, raw, closeAll } = clientPool();
const sockets: WsIrc[] = [];
const running: Running[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  for (const r of running) r.proc.kill('SIGKILL');
  closeAll();
  await killNodes();
  await redis?.stop();
});

describe('WebSocket clients on a network of nodes', () => {
  it('talk with TCP clients on another node, in a channel and privately', async () => {
    const [n1, n2] = (await startNodes(redis.url, 2, { network: 'WsNet', extraArgs: ['--websocket', '127.0.0.1:0'] })) as [IrcNode, IrcNode];
    const web = (await n1.waitForLine(/Web client at (http:\/\/127\.0\.0\.1:\d+)\/ \(IRC over WebSocket at (ws:\/\/\S+)\)/))!;
    const browser = await connectWs(web[2]!, { origin: web[1], protocols: ['text.ircv3.net'] });
    sockets.push(browser);
    await browser.register('webnode1');
    const far = await fw(n2, 'tcpnode2');
    const watcher = await raw(n2, 'watcher');
    browser.send('JOIN #across');
    await browser.waitForLine(/^:webnode1!\S+ JOIN #across$/);
    await far.join('#across');
    watcher.send('JOIN #across');
    await browser.waitForLine(/^:watcher!\S+ JOIN #across$/);
    // irc-framework enables userhost-in-names: each name is nick!user@host.
    expect(far.received().find((l) => / 353 /.test(l))).toMatch(/ 353 tcpnode2 = #across :@webnode1!~webnode1@127\.0\.0\.1 tcpnode2!~?tcpnode2@127\.0\.0\.1$/);

    browser.send('PRIVMSG #across :from a browser on n1');
    await far.waitFor('message', (e) => e.nick === 'webnode1' && e.message === 'from a browser on n1');
    await watcher.waitForLine(/^:webnode1!~webnode1@127\.0\.0\.1 PRIVMSG #across :from a browser on n1$/);
    far.say('#across', 'from a terminal on n2');
    await browser.waitForLine(/^:tcpnode2!\S+ PRIVMSG #across :from a terminal on n2$/);
    far.say('webnode1', 'just you');
    await browser.waitForLine(/^:tcpnode2!\S+ PRIVMSG webnode1 :just you$/);

    browser.send('QUIT :gone');
    await far.waitFor('quit', (e) => e.nick === 'webnode1' && e.message === 'Quit: gone');
  }, 30_000);

  it('are served by every worker of --workers 2, which each bind the WebSocket port first; the listening line names the IRC port', async () => {
    const r = run(serverBin, ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--redis', redis.url, '--workers', '2', '--websocket', '127.0.0.1:0']);
    running.push(r);
    const port = Number((await r.waitForLine(/^IRC server listening on 127\.0\.0\.1:(\d+) \(2 workers\)$/m, 15_000))[1]);
    const web = (await r.waitForLine(/Web client at (http:\/\/127\.0\.0\.1:(\d+))\/ \(IRC over WebSocket at (ws:\/\/\S+)\)/))!;
    expect(Number(web[2])).not.toBe(port);
    // Enough clients that both workers get some.
    const browsers: WsIrc[] = [];
    for (let i = 0; i < 8; i++) {
      const b = await connectWs(web[3]!, { origin: web[1], protocols: ['text.ircv3.net'] });
      sockets.push(b);
      browsers.push(b);
    }
    await Promise.all(browsers.map((b, i) => b.register(`ws${i}`)));
    await r.waitForLine(/\[worker 1\] #\d+ WebSocket text\.ircv3\.net/);
    await r.waitForLine(/\[worker 2\] #\d+ WebSocket text\.ircv3\.net/);
    const tcp = await connectIrc(port);
    await tcp.register('terminal');
    // The terminal joins first: browsers on the other worker could otherwise join before it and
    // it would never see their JOIN (a loaded run once had ws1..ws7 ahead of it).
    tcp.send('JOIN #workers');
    await tcp.waitForLine(/ 366 terminal #workers /);
    for (const b of browsers) b.send('JOIN #workers');
    await Promise.all(browsers.map((b) => b.waitForLine(/ 366 \S+ #workers /)));
    for (let i = 0; i < browsers.length; i++) await tcp.waitForLine(new RegExp(`^:ws${i}!\\S+ JOIN #workers$`));
    tcp.send('PRIVMSG #workers :to every browser');
    await Promise.all(browsers.map((b) => b.waitForLine(/^:terminal!\S+ PRIVMSG #workers :to every browser$/)));
    r.proc.kill('SIGINT');
    for (const b of browsers) expect(await b.waitForLine(/^ERROR/)).toMatch(/\[Server shutting down\]$/);
    expect((await r.exited).code).toBe(0);
    tcp.raw.socket.destroy();
  }, 30_000);
});
