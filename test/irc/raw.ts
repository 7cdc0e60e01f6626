// A raw IRC client for tests that check exact bytes: it sends lines as given and records every
// line received (tags stripped unless asked for), with waits that fail naming what was awaited.
import { connect, type RawClient } from '../helpers.js';

export interface RawIrc {
  raw: RawClient;
  /** Lines received so far, without CRLF and without their tag section. */
  lines(): string[];
  send(...lines: string[]): void;
  /** Resolves with the first line (after the `from`th) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** NICK + USER, resolves at the end of the MOTD (376 or 422). */
  register(nick: string): Promise<void>;
  closed: Promise<string>;
}

/** A line without its tag section. */
export const untagged = (l: string) => (l.startsWith('@') ? l.slice(l.indexOf(' ') + 1) : l);

/** Polls `lines()` for the first line (after the `from`th) matching `pattern`; fails naming it. */
export async function waitForLineIn(lines: () => string[], pattern: RegExp, timeoutMs = 5_000, from = 0): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = lines().slice(from).find((l) => pattern.test(l));
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) {
      throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${lines().slice(-15).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function connectIrc(port: number, host = '127.0.0.1'): Promise<RawIrc> {
  const raw = await connect(port, host);
  const lines = () =>
    raw
      .text()
      .split('\r\n')
      .slice(0, -1)
      .map(untagged);
  const client: RawIrc = {
    raw,
    lines,
    closed: raw.closed,
    send: (...ls) => void raw.socket.write(ls.map((l) => `${l}\r\n`).join('')),
    waitForLine: (pattern, timeoutMs, from) => waitForLineIn(lines, pattern, timeoutMs, from),
    async register(nick) {
      client.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick} test`);
      await client.waitForLine(/^\S+ (376|422) /);
    },
  };
  return client;
}

/** Sends `line` and resolves with the first line received after it that matches `pattern`. */
export function ask(c: RawIrc, line: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const from = c.lines().length;
  c.send(line);
  return c.waitForLine(pattern, timeoutMs, from);
}

/** The text of the NickServ NOTICEs `c` received (after its `from`th line). */
export function nickServNotices(c: RawIrc, from = 0): string[] {
  return c
    .lines()
    .slice(from)
    .flatMap((l) => {
      const m = /^:NickServ!NickServ@services NOTICE \S+ :(.*)$/.exec(l);
      return m ? [m[1]!] : [];
    });
}

/** Registers `nick` as an account with NickServ (`/msg NickServ REGISTER password`), then quits. */
export async function registerAccount(port: number, nick: string, password: string): Promise<void> {
  const c = await connectIrc(port);
  await c.register(nick);
  await ask(c, `PRIVMSG NickServ :REGISTER ${password}`, / 900 /);
  c.send('QUIT :registered');
  await c.closed;
}

/**
 * A client that enables `caps` (and, with `login`, sasl and a PLAIN login to that account
 * before CAP END), registered as `nick`. Its lines() are untagged; raw.text() has the tags.
 */
export async function capClient(port: number, nick: string, caps: string, login?: { account: string; password: string }): Promise<RawIrc> {
  const c = await connectIrc(port);
  c.send(`CAP REQ :${caps}${login ? ' sasl' : ''}`, `NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.waitForLine(/ CAP \S+ ACK /);
  if (login) {
    c.send('AUTHENTICATE PLAIN');
    await c.waitForLine(/(^| )AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${Buffer.from(`${login.account}\0${login.account}\0${login.password}`).toString('base64')}`);
    await c.waitForLine(/ 903 /);
  }
  c.send('CAP END');
  await c.waitForLine(/ (376|422) /);
  return c;
}

/**
 * Asks WHOIS until `asker` sees always-on `nick` away as not connected (301): once its last
 * connection has closed, its departure (and what it keeps for later) is done by then.
 */
export async function untilShownAway(asker: RawIrc, askerNick: string, nick: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    const from = asker.lines().length;
    asker.send(`WHOIS ${nick}`);
    const end = await asker.waitForLine(new RegExp(` 318 ${askerNick} ${nick} `), 5_000, from);
    const lines = asker.lines().slice(from, asker.lines().indexOf(end, from));
    if (lines.some((l) => new RegExp(` 301 ${askerNick} ${nick} :Not connected`).test(l))) return;
    if (tries === 50) throw new Error(`${nick} never shown away as not connected`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
