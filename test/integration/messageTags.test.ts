// IRCv3 message tags, batches and labeled responses on real sockets, raw bytes checked: each
// recipient gets the form of a message its caps ask for (server-time, message-tags with the
// msgid and client-only tags), TAGMSG reaches only message-tags clients, and a labeled command
// is answered by one message, one batch or an ACK. irc-framework (which negotiates
// message-tags and batch) sees +typing as a real client library does.
import { afterEach, describe, expect, it } from 'vitest';
import { startIrcTestServer, type TestServer } from '../helpers.js';
import { connectClient, type TestClient } from '../irc/clients.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';

let server: TestServer | null = null;
const clients: RawIrc[] = [];
const fws: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const c of fws.splice(0)) c.destroy();
  await server?.stop();
  server = null;
});

/** Every line received, tags and all, without CRLF. */
const wire = (c: RawIrc): string[] => c.raw.text().split('\r\n').slice(0, -1);

/** Resolves with the first full line (tags included) after the `from`th matching `pattern`. */
async function waitForWire(c: RawIrc, pattern: RegExp, from = 0, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = wire(c).slice(from).find((l) => pattern.test(l));
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern}; got:\n${wire(c).slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw client registered as `nick` with `caps` enabled. */
async function rawWith(port: number, nick: string, caps: string[]): Promise<RawIrc> {
  const c = await connectIrc(port);
  clients.push(c);
  if (caps.length > 0) {
    c.send('CAP LS 302', `CAP REQ :${caps.join(' ')}`, `NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
    await c.waitForLine(/ CAP \S+ ACK /);
    c.send('CAP END');
  } else c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.waitForLine(/ 376 /);
  return c;
}

const isoTime = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

describe('message tags', () => {
  it('gives each recipient the form its caps ask for: time, msgid and client-only tags, or none', async () => {
    server = await startIrcTestServer({ floodBurstLines: 1000 });
    const sender = await rawWith(server.port, 'sender', ['message-tags', 'echo-message']);
    const both = await rawWith(server.port, 'both', ['message-tags', 'server-time']);
    const timed = await rawWith(server.port, 'timed', ['server-time']);
    const plain = await rawWith(server.port, 'plain', []);
    for (const c of [sender, both, timed, plain]) {
      c.send('JOIN #tags');
      await c.waitForLine(/ 366 \S+ #tags /);
    }
    await sender.waitForLine(/^:plain!\S+ JOIN #tags/);
    sender.send('@+draft/reply=abc;msgid=forged;+typing=done PRIVMSG #tags :hello all');
    const echo = await waitForWire(sender, /PRIVMSG #tags :hello all$/);
    const msgid = /msgid=([^; ]+)/.exec(echo)![1]!;
    expect(msgid).not.toBe('forged');
    expect(echo).toBe(`@msgid=${msgid};+draft/reply=abc;+typing=done :sender!~sender@127.0.0.1 PRIVMSG #tags :hello all`);
    expect(await waitForWire(both, /PRIVMSG #tags/)).toMatch(
      new RegExp(`^@time=${isoTime};msgid=${msgid};\\+draft/reply=abc;\\+typing=done :sender!~sender@127\\.0\\.0\\.1 PRIVMSG #tags :hello all$`),
    );
    expect(await waitForWire(timed, /PRIVMSG #tags/)).toMatch(new RegExp(`^@time=${isoTime} :sender!~sender@127\\.0\\.0\\.1 PRIVMSG #tags :hello all$`));
    expect(await waitForWire(plain, /PRIVMSG #tags/)).toBe(':sender!~sender@127.0.0.1 PRIVMSG #tags :hello all');

    // A second message has another msgid; TAGMSG reaches only the message-tags clients.
    sender.send('@+typing=active TAGMSG #tags', 'PRIVMSG #tags :second');
    await waitForWire(plain, /PRIVMSG #tags :second$/);
    await waitForWire(both, /PRIVMSG #tags :second$/);
    const second = /msgid=([^; ]+)/.exec(await waitForWire(sender, /PRIVMSG #tags :second$/))![1];
    expect(second).not.toBe(msgid);
    expect(wire(both).filter((l) => / TAGMSG /.test(l))).toHaveLength(1);
    expect(wire(both).find((l) => / TAGMSG /.test(l))).toMatch(/;\+typing=active :sender!\S+ TAGMSG #tags$/);
    expect(wire(timed).some((l) => / TAGMSG /.test(l))).toBe(false);
    expect(wire(plain).some((l) => / TAGMSG /.test(l))).toBe(false);
  });

  it('reaches irc-framework as a tagmsg event carrying +typing', async () => {
    server = await startIrcTestServer();
    const alice = await connectClient({ port: server.port, nick: 'alice' });
    const bob = await connectClient({ port: server.port, nick: 'bob' });
    fws.push(alice, bob);
    await alice.join('#typing');
    await bob.join('#typing');
    const typing = bob.waitFor('tagmsg', (e) => e.nick === 'alice');
    alice.irc.tagmsg('#typing', { '+typing': 'active' });
    const event = await typing;
    expect(event.target).toBe('#typing');
    expect(event.tags['+typing']).toBe('active');
    expect(event.tags.msgid).toMatch(/^\S+$/);
  });
});

describe('labeled-response', () => {
  it('labels a single reply, wraps several in one batch, and ACKs a command with none', async () => {
    server = await startIrcTestServer();
    const c = await rawWith(server.port, 'lab', ['labeled-response', 'batch']);
    const other = await rawWith(server.port, 'other', []);
    let from = wire(c).length;
    c.send('@label=p1 PING :tick');
    expect(await waitForWire(c, /PONG/, from)).toMatch(/^@label=p1 :irc\.localhost PONG irc\.localhost :?tick$/);

    from = wire(c).length;
    c.send('@label=w\\:2 WHOIS other');
    const open = await waitForWire(c, / BATCH \+/, from);
    const id = /^@label=w\\:2 :irc\.localhost BATCH \+(\S+) labeled-response$/.exec(open)?.[1];
    expect(id, open).toBeDefined();
    await waitForWire(c, new RegExp(`BATCH -${id}$`), from);
    const batch = wire(c).slice(from);
    expect(batch[0]).toBe(open);
    expect(batch.at(-1)).toBe(`:irc.localhost BATCH -${id}`);
    const inside = batch.slice(1, -1);
    expect(inside.length).toBeGreaterThan(1);
    for (const l of inside) expect(l.startsWith(`@batch=${id} :irc.localhost 3`)).toBe(true);
    expect(inside.at(-1)).toMatch(/ 318 lab other /);

    from = wire(c).length;
    c.send('@label=m PRIVMSG other :no reply');
    await other.waitForLine(/PRIVMSG other :no reply$/);
    expect(await waitForWire(c, /ACK/, from)).toBe('@label=m :irc.localhost ACK');
    // An error is a reply like any other.
    from = wire(c).length;
    c.send('@label=e FROB');
    expect(await waitForWire(c, / 421 /, from)).toBe('@label=e :irc.localhost 421 lab FROB :Unknown command');
  });

  it('labels nothing for a client without batch, as the spec requires both', async () => {
    server = await startIrcTestServer();
    const c = await rawWith(server.port, 'nobatch', ['labeled-response']);
    const from = wire(c).length;
    c.send('@label=p1 PING :tick', '@label=p2 PING :tock');
    await waitForWire(c, /PONG .*tock$/, from);
    expect(wire(c).slice(from)).toEqual([':irc.localhost PONG irc.localhost tick', ':irc.localhost PONG irc.localhost tock']);
  });
});

describe('draft/multiline', () => {
  it('carries a 40-line message as one batch to a multiline client and as lines to another, past flood control', async () => {
    // Default flood control: 10 lines at once, then 2 a second. Forty lines of one message
    // cost it one command, so they arrive at once.
    server = await startIrcTestServer();
    const sender = await rawWith(server.port, 'poet', ['draft/multiline', 'batch', 'message-tags']);
    const modern = await rawWith(server.port, 'modern', ['draft/multiline', 'batch', 'message-tags']);
    const plain = await rawWith(server.port, 'plain', []);
    for (const c of [sender, modern, plain]) {
      c.send('JOIN #verse');
      await c.waitForLine(/ 366 \S+ #verse /);
    }
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    const started = Date.now();
    sender.send('BATCH +p draft/multiline #verse', ...lines.map((l) => `@batch=p PRIVMSG #verse :${l}`), 'BATCH -p');
    const open = await waitForWire(modern, / BATCH \+\S+ draft\/multiline #verse$/);
    const ref = / BATCH \+(\S+) /.exec(open)![1]!;
    await waitForWire(modern, new RegExp(`BATCH -${ref}$`));
    await plain.waitForLine(/PRIVMSG #verse :line 39$/);
    expect(Date.now() - started).toBeLessThan(3_000);
    const inside = wire(modern).filter((l) => l.startsWith(`@batch=${ref} `));
    expect(inside.map((l) => l.replace(/^.* PRIVMSG #verse :/, ''))).toEqual(lines);
    expect(open).toMatch(/^@msgid=\S+ :poet!~poet@127\.0\.0\.1 BATCH/);
    expect(plain.lines().filter((l) => / PRIVMSG #verse /.test(l)).map((l) => l.replace(/^.* PRIVMSG #verse :/, ''))).toEqual(lines);
  });
});

describe('draft/multiline with labeled-response and server-time', () => {
  it('answers a labeled multiline message with its echo batch, the label on its BATCH line, one time on every form', async () => {
    server = await startIrcTestServer();
    const caps = ['draft/multiline', 'batch', 'message-tags', 'labeled-response', 'echo-message', 'server-time'];
    const sender = await rawWith(server.port, 'labeler', caps);
    const fallback = await rawWith(server.port, 'fallback', ['message-tags', 'server-time']);
    for (const c of [sender, fallback]) {
      c.send('JOIN #lab');
      await c.waitForLine(/ 366 \S+ #lab /);
    }
    await sender.waitForLine(/^:fallback!\S+ JOIN #lab/);
    const from = wire(sender).length;
    sender.send('@label=xyz;+draft/reply=m1 BATCH +b draft/multiline #lab', '@batch=b PRIVMSG #lab :one', '@batch=b;draft/multiline-concat PRIVMSG #lab :two', 'BATCH -b');
    const open = await waitForWire(sender, / BATCH \+/, from);
    const ref = / BATCH \+(\S+) /.exec(open)![1]!;
    await waitForWire(sender, new RegExp(`BATCH -${ref}$`), from);
    const echo = wire(sender).slice(from);
    // No ACK for the BATCH + line, no wrapping batch: the echo is the answer.
    expect(echo, echo.join("\n")).toHaveLength(4);
    expect(echo[0]).toMatch(new RegExp(`^@label=xyz;time=(${isoTime});msgid=\\S+;\\+draft/reply=m1 :labeler!\\S+ BATCH \\+${ref} draft/multiline #lab$`));
    const time = new RegExp(`time=(${isoTime})`).exec(echo[0]!)![1]!;
    const got = [await waitForWire(fallback, /PRIVMSG #lab :one$/), await waitForWire(fallback, /PRIVMSG #lab :two$/)];
    expect(got[0]).toMatch(new RegExp(`^@time=${time.replace(/\./g, '\\.')};msgid=\\S+;\\+draft/reply=m1 :labeler!\\S+ PRIVMSG #lab :one$`));
    expect(got[1]).toBe(`@time=${time};+draft/reply=m1 ${got[1]!.slice(got[1]!.indexOf(':labeler!'))}`);
  });
});

describe('labeled-response to oneself', () => {
  it('labels the echo of a PRIVMSG a client sends itself, and not the copy it receives', async () => {
    server = await startIrcTestServer();
    const c = await rawWith(server.port, 'narcissus', ['labeled-response', 'batch', 'echo-message']);
    const from = wire(c).length;
    c.send('@label=self PRIVMSG narcissus :hi me');
    await waitForWire(c, /label=self/, from);
    await new Promise((r) => setTimeout(r, 100));
    const got = wire(c).slice(from);
    expect([...got].sort()).toEqual([':narcissus!~narcissus@127.0.0.1 PRIVMSG narcissus :hi me', '@label=self :narcissus!~narcissus@127.0.0.1 PRIVMSG narcissus :hi me'].sort());
  });
});
