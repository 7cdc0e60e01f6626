// Real IRC clients for the tests: irc-framework over a real socket, recording every raw line it
// sends and receives and every parsed event, with event-driven waits whose timeouts say what was
// awaited and what arrived instead.
import IRC, { type Client, type IrcMessage } from 'irc-framework';

/** The parsed events a test may wait for; each is recorded in arrival order. */
export const recordedEvents = [
  'registered', 'motd', 'message', 'join', 'part', 'quit', 'nick', 'kick', 'topic', 'topicsetby',
  'mode', 'userlist', 'invite', 'away', 'back', 'irc error', 'nick in use', 'nick invalid',
  'loggedin', 'loggedout', 'account', 'sasl failed', 'tagmsg', 'users online', 'users offline', 'user updated',
  'banlist', 'exceptlist', 'inviteList',
] as const;
export type EventName = (typeof recordedEvents)[number] | 'close';

/** One recorded event: irc-framework's name and the object it emitted. */
export interface Recorded {
  name: EventName;
  data: Record<string, any>;
}

export interface RawLine {
  line: string;
  fromServer: boolean;
}

export interface ConnectOptions {
  port: number;
  nick: string;
  host?: string;
  username?: string;
  /** Request the IRCv3 echo-message capability. */
  echoMessage?: boolean;
  /** Capabilities to request besides irc-framework's usual ones (when the server offers them). */
  caps?: string[];
  /** How long registration may take (connect to end of MOTD). */
  timeoutMs?: number;
  /** Log in with SASL PLAIN while connecting (irc-framework's `account` option). */
  account?: { account: string; password: string };
}

export interface TestClient {
  /** The underlying irc-framework client. */
  readonly irc: Client;
  /** The nick the server knows this client by now (follows NICK changes). */
  readonly nick: string;
  /** Every raw line, both directions, in order (CR LF stripped). */
  readonly raw: RawLine[];
  /** Every recorded event, in order. */
  readonly events: Recorded[];
  /** The lines received from the server, without their message tags (server-time). */
  received(): string[];
  /** The raw lines received from the server, tags and all. */
  receivedRaw(): string[];
  /**
   * What this user saw of the others: received lines of the given commands sent by users (not
   * server notices), channel modes but not user modes, the source reduced to its nick:
   * `bob PRIVMSG #c :hi`. Independent of user@host and of how the server places `:`.
   */
  transcript(commands?: readonly string[]): string[];
  /** Recorded events of one name (their data). */
  eventsNamed(name: EventName): Record<string, any>[];
  /**
   * Resolves with the first recorded event (already received or still to come) that has this
   * name and matches; rejects after the timeout, naming what was awaited and what came.
   */
  waitFor(name: EventName, match?: (data: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  waitFor(match: (event: Recorded) => boolean, timeoutMs?: number): Promise<Recorded>;
  /** Like `waitFor(name, match)`, but only for events recorded after this call. */
  waitForNext(name: EventName, match?: (data: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with the first received raw line matching `pattern` (already received or to come). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  say(target: string, text: string): void;
  /** Sends JOIN and resolves once the server has sent this client's JOIN and the NAMES list. */
  join(channel: string): Promise<void>;
  /** Sends PART and resolves once the server has echoed it. */
  part(channel: string, reason?: string): Promise<void>;
  /** Sends NICK and resolves once the server has confirmed it. */
  changeNick(nick: string): Promise<void>;
  /** Sends TOPIC and resolves once the server has sent the change back. */
  setTopic(channel: string, topic: string): Promise<void>;
  /** Sends QUIT and resolves once the server has closed the connection. */
  quit(reason?: string): Promise<void>;
  /** Cleanup for failed tests: closes the socket without a word if still open. */
  destroy(): void;
}

/** The commands `transcript()` keeps by default: what one user sees of the others. */
export const chatCommands = ['JOIN', 'PART', 'QUIT', 'NICK', 'KICK', 'TOPIC', 'PRIVMSG', 'NOTICE', 'MODE', 'INVITE'] as const;
/** Commands whose last parameter is free text: written with `:` in transcripts. */
const textCommands = new Set(['PART', 'QUIT', 'KICK', 'TOPIC', 'PRIVMSG', 'NOTICE']);

const defaultTimeoutMs = 5_000;

/** The same message in a form that does not depend on user@host or the server's `:` habits. */
export function normalise(msg: IrcMessage): string {
  const params = msg.params.map((p, i) => (i === msg.params.length - 1 && textCommands.has(msg.command) ? `:${p}` : p));
  return [msg.nick || msg.prefix, msg.command, ...params].join(' ');
}

/** Sent by a user, not a server: nicks never contain a dot, server names do. */
const isFromUser = (msg: IrcMessage) => msg.prefix !== '' && !(msg.nick || msg.prefix).includes('.');
/** A MODE on a user (e.g. the `+i` some servers set at registration), not on a channel. */
const isUserMode = (msg: IrcMessage) => msg.command === 'MODE' && !/^[#&+!]/.test(msg.params[0] ?? '');

function describeMatch(match: unknown): string {
  if (match === undefined) return '';
  const src = String(match).replace(/\s+/g, ' ');
  return ` matching ${src.length > 160 ? `${src.slice(0, 160)}…` : src}`;
}

export function connectClient(options: ConnectOptions): Promise<TestClient> {
  const { port, nick, host = '127.0.0.1', timeoutMs = 10_000 } = options;
  const irc = new IRC.Client();
  const raw: RawLine[] = [];
  const events: Recorded[] = [];
  const waiters = new Set<() => void>();
  let closed = false;
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  irc.on('raw', (e: { line: string; from_server: boolean }) => {
    raw.push({ line: e.line.replace(/\r?\n$/, ''), fromServer: e.from_server });
    notify();
  });
  for (const name of recordedEvents) {
    irc.on(name, (data: Record<string, any>) => {
      events.push({ name, data });
      notify();
    });
  }
  irc.on('close', () => {
    closed = true;
    events.push({ name: 'close', data: {} });
    notify();
  });

  const receivedRaw = () => raw.filter((r) => r.fromServer).map((r) => r.line);
  // The tag section (`@time=... `) differs with every run; the tests compare what follows it.
  const received = () => receivedRaw().map((l) => (l.startsWith('@') ? l.slice(l.indexOf(' ') + 1) : l));
  const recent = () => {
    const lines = received();
    const tail = lines.slice(-25);
    return `${lines.length > tail.length ? `(${lines.length - tail.length} earlier lines)\n` : ''}${tail.join('\n')}`;
  };

  /** Waits until `find()` returns something, re-checking on every line and event. */
  const until = <T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const fail = (why: string) => {
        waiters.delete(check);
        clearTimeout(timer);
        reject(new Error(`${client.nick}: no ${what} ${why}; received:\n${recent()}`));
      };
      const check = () => {
        const found = find();
        if (found === undefined) {
          // Nothing more can arrive on a closed connection: say so now, not at the timeout.
          if (closed) fail('and the connection is closed');
          return;
        }
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => fail(`within ${timeoutMs} ms`), timeoutMs);
      waiters.add(check);
      check();
    });

  const lineCount = () => raw.filter((r) => r.fromServer).length;
  /** Waits for a received line, counting only lines after the `from`th (so replies to this command). */
  const lineAfter = (from: number, pattern: RegExp, what: string, timeoutMs = defaultTimeoutMs) =>
    until(() => received().slice(from).find((l) => pattern.test(l)), timeoutMs, what);

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parse = (line: string) => IRC.ircLineParser(line);
  const fromMe = (msg: IrcMessage, command: string) => msg.command === command && msg.nick.toLowerCase() === irc.user.nick.toLowerCase();

  function waitFor(name: EventName, match?: (data: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  function waitFor(match: (event: Recorded) => boolean, timeoutMs?: number): Promise<Recorded>;
  function waitFor(a: EventName | ((e: Recorded) => boolean), b?: unknown, c?: number): Promise<unknown> {
    if (typeof a === 'function') {
      const t = typeof b === 'number' ? b : defaultTimeoutMs;
      return until(() => events.find(a), t, `event${describeMatch(a)}`);
    }
    const match = b as ((d: Record<string, any>) => boolean) | undefined;
    return until(() => events.find((e) => e.name === a && (!match || match(e.data)))?.data, c ?? defaultTimeoutMs, `'${a}' event${describeMatch(match)}`);
  }

  const client: TestClient = {
    irc,
    get nick() {
      return irc.user.nick;
    },
    raw,
    events,
    received,
    receivedRaw,
    transcript(commands = chatCommands) {
      return received()
        .map(parse)
        .filter((m) => commands.includes(m.command) && isFromUser(m) && !isUserMode(m))
        .map(normalise);
    },
    eventsNamed: (name) => events.filter((e) => e.name === name).map((e) => e.data),
    waitFor,
    waitForNext(name, match, timeoutMs = defaultTimeoutMs) {
      const from = events.length;
      return until(
        () => events.slice(from).find((e) => e.name === name && (!match || match(e.data)))?.data,
        timeoutMs,
        `new '${name}' event${describeMatch(match)}`,
      );
    },
    waitForLine: (pattern, timeoutMs = defaultTimeoutMs) => lineAfter(0, pattern, `line matching ${pattern}`, timeoutMs),
    say(target, text) {
      irc.say(target, text);
    },
    async join(channel) {
      const from = lineCount();
      irc.join(channel);
      const endOfNames = new RegExp(`^(@\\S+ )?:\\S+ 366 \\S+ ${escape(channel)} `, 'i');
      await until(() => {
        const after = received().slice(from);
        const joined = after.findIndex((l) => fromMe(parse(l), 'JOIN'));
        return joined >= 0 && after.slice(joined).some((l) => endOfNames.test(l)) ? true : undefined;
      }, defaultTimeoutMs, `JOIN ${channel} and its NAMES list (366)`);
    },
    async part(channel, reason) {
      const from = lineCount();
      irc.part(channel, reason);
      await until(() => received().slice(from).find((l) => fromMe(parse(l), 'PART')), defaultTimeoutMs, `PART ${channel} echoed`);
    },
    async changeNick(newNick) {
      const from = lineCount();
      const old = irc.user.nick;
      irc.changeNick(newNick);
      await until(
        () => received().slice(from).find((l) => {
          const m = parse(l);
          return m.command === 'NICK' && m.nick.toLowerCase() === old.toLowerCase() && m.params[0] === newNick;
        }),
        defaultTimeoutMs,
        `NICK ${old} -> ${newNick} confirmed`,
      );
    },
    async setTopic(channel, topic) {
      const from = lineCount();
      irc.setTopic(channel, topic);
      await lineAfter(from, new RegExp(`^(@\\S+ )?:\\S+ TOPIC ${escape(channel)} :?${escape(topic)}$`, 'i'), `TOPIC ${channel} echoed`);
    },
    async quit(reason) {
      if (closed) return;
      irc.quit(reason);
      await until(() => (closed ? true : undefined), defaultTimeoutMs, 'close after QUIT');
    },
    destroy() {
      if (closed) return;
      // A forced close: irc-framework's transport destroys the socket.
      (irc as unknown as { connection: { end(data: null, hadError: boolean): void } }).connection.end(null, true);
    },
  };

  if (options.caps) irc.requestCap(options.caps);
  irc.connect({
    host,
    port,
    nick,
    username: options.username ?? nick,
    gecos: `${nick} (irc-framework)`,
    auto_reconnect: false,
    enable_echomessage: options.echoMessage ?? false,
    ...(options.account ? { account: options.account } : {}),
    // No client PINGs in the middle of what a test records.
    ping_interval: 0,
  });

  // Registered means the welcome burst is over: 001 came and the MOTD (or its absence) ended it.
  return until(
    () => (events.some((e) => e.name === 'registered') && events.some((e) => e.name === 'motd') ? client : undefined),
    timeoutMs,
    'registration (001 and end of MOTD)',
  ).catch((e: unknown) => {
    client.destroy();
    throw e;
  });
}

/** The server under test, as each IRC test file's `startIrc()` returns it. */
export interface IrcTarget {
  port: number;
  stop(): Promise<void>;
}
