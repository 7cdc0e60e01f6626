// The home node's end of a relayed client (multiclient across nodes) as a Transport: what the
// session adapter relies on from any socket, without a bus.
import { describe, expect, it } from 'vitest';
import { RelayTransport } from '../../../src/irc/session/relayTransport.js';

const init = { ip: '192.0.2.7', host: '192.0.2.7', tls: true, certfp: null, account: 'mia', caps: ['server-time'], capVersion: 302, user: '~mia', realname: 'Mia' };

function relay() {
  const out: string[] = [];
  let ends = 0;
  const t = new RelayTransport(2, 77, init, { out: (d) => void out.push(d), end: () => void ends++ });
  const data: string[] = [];
  const events: string[] = [];
  t.on('data', (b: Buffer) => data.push(b.toString()));
  for (const e of ['end', 'close']) t.on(e, () => events.push(e));
  return { t, out, data, events, ends: () => ends };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('RelayTransport', () => {
  it('shows the client as the other node saw it, and holds what arrives until resumed', () => {
    const r = relay();
    expect([r.t.remoteAddress, r.t.encrypted]).toEqual(['192.0.2.7', true]);
    r.t.receive(Buffer.from('NICK mia\r\n'));
    expect(r.data).toEqual([]);
    r.t.resume();
    r.t.receive(Buffer.from('JOIN #a\r\n'));
    expect(r.data).toEqual(['NICK mia\r\n', 'JOIN #a\r\n']);
  });

  it('sends output to the other node, and on end its last line, then asks it to close, once', async () => {
    const r = relay();
    r.t.write(':a.test 001 mia :hi\r\n');
    r.t.end('ERROR :bye\r\n');
    r.t.destroy();
    expect(r.t.write('late\r\n')).toBe(false);
    expect(r.out).toEqual([':a.test 001 mia :hi\r\n', 'ERROR :bye\r\n']);
    expect(r.ends()).toBe(1);
    await turn();
    expect(r.events).toEqual(['close']);
  });

  it('ends and closes when the other node says the client is gone, without asking it back', async () => {
    const r = relay();
    r.t.resume();
    r.t.remoteClosed();
    r.t.receive(Buffer.from('PRIVMSG #a :after\r\n'));
    r.t.end('ERROR :bye\r\n');
    expect(r.data).toEqual([]);
    expect(r.ends()).toBe(0);
    await turn();
    expect(r.events).toEqual(['end', 'close']);
  });
});
