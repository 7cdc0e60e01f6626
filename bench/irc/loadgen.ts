// The IRC benchmark's load generator: a child process (forked by measure.ts with
// --load-process) that holds its share of the clients between requests, so that their CPU is
// neither the server's nor the harness's. One request at a time per kind of work:
//   connect  clients that register and join a channel (chatting), or only register (idle);
//            with `caps`, CAP LS 302 → CAP REQ → the ACK → CAP END before the 001
//   run      every joined chatting client says one PRIVMSG every period with its send time in the
//            text; every delivery is counted and timed by the client that receives it; with
//            `watch`, the QUIT of one nick (the never-reader, measure.ts) is timed and
//            the sends go on until it comes
//   storm    the registration storm: connect → NICK/USER → 001 → QUIT → the server's close, again;
//            with a session, SASL, a JOIN and a CHATHISTORY on the way (sasl-registration, history-join)
//   logins   the login storm: every attempt at once, each CAP REQ sasl → AUTHENTICATE PLAIN →
//            903 (or 904) → CAP END → 001 → QUIT
//   quit     every client QUITs, and is destroyed if still open after a bound
//   joinStorm, joinStormCount, joinStormDrop, watchStart, watchStop
//            the join storm's clients and its PING watcher (joinStormClients.ts)
// The hot path is clientOnData: it scans the bytes for newlines and PRIVMSG lines without making
// strings; every other line (registration, PING, QUIT) becomes a string.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { serveRequests } from '../lib/ipc.js';
import { host } from '../lib/loopback.js';
import { bucketOf, histogramPairs, histogramSize, tally } from '../lib/stats.js';
import { monoUs, sleep, until } from '../lib/wait.js';
import { handleJoinStorm, type JoinStormBody } from './joinStormClients.js';

// --- Requests and results --------------------------------------------------------------------

export interface ClientSpec {
  nick: string;
  /** null: the client only registers (and answers PINGs); it counts as joined at the end of the MOTD. */
  channel: string | null;
  /** The server's port (with two nodes, the clients alternate between theirs). */
  port: number;
  /** Capabilities to enable while registering (`server-time message-tags`); none when absent. */
  caps?: string;
}

export interface StormRequest {
  type: 'storm';
  port: number;
  /** Nicks are `<nickPrefix><n>`, n counting up: unique across the load processes. */
  nickPrefix: string;
  /** Slots of this process: each one a closed loop of attempts. */
  concurrency: number;
  /** On the shared clock: the first attempts, the window, and the last. */
  startUs: number;
  windowStartUs: number;
  windowEndUs: number;
  endUs: number;
  attemptTimeoutMs: number;
  /** What each attempt does besides NICK/USER → 001 → QUIT; absent: nothing. */
  session?: StormSession;
}

/**
 * The steps an attempt of the storm adds to a plain registration, in this order: CAP LS 302 →
 * CAP REQ of `caps` → ACK; SASL PLAIN (slot i logs in to accounts[i mod n]) → 903; NICK/USER →
 * CAP END → 001; JOIN → 366; CHATHISTORY LATEST <channel> * n → the end of its batch. The attempt
 * is done (timed, counted, QUIT) after its last step.
 */
export interface StormSession {
  caps?: string;
  sasl?: { accounts: string[]; password: string };
  join?: { channel: string; latest: number | null };
}

/** One SASL PLAIN attempt of the login storm. */
export interface LoginAttempt {
  account: string;
  password: string;
  nick: string;
  /** The local address it connects from (127.0.0.x): the server's per-IP throttle counts by it. */
  from: string;
}

export interface LoginStormRequest {
  type: 'logins';
  port: number;
  /** On the shared clock: when every attempt connects. */
  startUs: number;
  attempts: LoginAttempt[];
  /** An attempt without its 903 or 904 after this is cut (and counted as a timeout). */
  attemptTimeoutMs: number;
}

export interface RunRequest {
  type: 'run';
  sendStartUs: number;
  windowStartUs: number;
  windowEndUs: number;
  sendEndUs: number;
  periodMs: number;
  textBytes: number;
  drainMaxMs: number;
  /** The QUIT of `nick` is timed; until it comes, or `untilUs`, the sends go on past sendEndUs. */
  watch: { nick: string; untilUs: number } | null;
}

export type LoadBody =
  | { type: 'connect'; clients: ClientSpec[]; maxPending: number; timeoutMs: number }
  | RunRequest
  | { type: 'quit'; timeoutMs: number }
  | StormRequest
  | LoginStormRequest
  | JoinStormBody;
type LoadRequest = LoadBody & { id: number };

export interface ConnectResult {
  joined: number;
  joinedByChannel: Record<string, number>;
  failures: Record<string, number>;
  ms: number;
}

export interface RunResult {
  sentByChannel: Record<string, number>;
  /** Lines sent inside the window (by send time), and the first send of the run (null: none). */
  sentInWindow: number;
  firstSendUs: number | null;
  /** Deliveries that arrived in the window, and all deliveries of this run's lines (after the drain). */
  delivered: number;
  deliveredTotal: number;
  /** Latencies of the deliveries in the window, as [bucket, count] pairs. */
  histogram: Array<[number, number]>;
  maxLatencyUs: number;
  /** Clients closed (by the server or an error) during the run. */
  disconnected: number;
  /** Sends whose timer fired more than lateSendMs late, and the latest one. */
  lateSends: number;
  maxSendLagMs: number;
  /** When a client here first saw the watched nick's QUIT, and its reason (null: not seen). */
  watchQuitUs: number | null;
  watchQuitReason: string | null;
}

export interface StormResult {
  /** 001s received in the window (with a session: attempts done, after its last step). */
  registered: number;
  /** connect() → 001 (or done) of those in the window, as [bucket, count] pairs (µs). */
  histogram: Array<[number, number]>;
  maxUs: number;
  /** Attempts without a 001, by reason; registered clients the server did not close in time. */
  failures: Record<string, number>;
  quitTimeouts: number;
  /** Lines inside the CHATHISTORY batches of the attempts done in the window (a session with `latest`). */
  replayedLines: number;
}

export interface LoginStormResult {
  /** 903s (logged in) and 904s (refused: the wrong passwords, or a throttle). */
  succeeded: number;
  refused: number;
  /** Attempts that got neither, by reason (`reply902`, `timeout`, `ECONNRESET`, ...). */
  failures: Record<string, number>;
  /** connect() → 903 of the successes, as [bucket, count] pairs (µs). */
  histogram: Array<[number, number]>;
  maxUs: number;
  /** The last 903 or 904, on the shared clock (null: none came). */
  lastAnswerUs: number | null;
  /** Attempts that went on to the 001 after CAP END. */
  welcomed: number;
}

// --- Limits ------------------------------------------------------------------------------------

/** A line longer than this without a newline closes the client (it is not IRC). */
const maxLineBytes = 64 * 1024;
/** A send whose timer fired this late counts as late: the load generator was behind. */
const lateSendMs = 10;
/** After the last send, deliveries still arriving get until none arrived for this long. */
const drainQuietMs = 1_000;
/** How often a run past its sends looks for the watched QUIT. */
const watchPollMs = 50;
/** A storm attempt that failed waits this long before its slot starts again (no spin on a dead server). */
const failureBackoffMs = 50;

// --- Chatting and idle clients -----------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;
const AT = 0x40;
const privmsgBytes = Buffer.from('PRIVMSG ');

interface LoadClient {
  readonly spec: ClientSpec;
  readonly socket: net.Socket;
  partial: Buffer | null;
  phase: 'registering' | 'joining' | 'joined' | 'closed';
  /** Called once when the client has joined (null) or failed (the reason). */
  settle: ((failure: string | null) => void) | null;
  errorCode: string | null;
  sendTimer: NodeJS.Timeout | null;
}

interface RunState {
  sendStartUs: number;
  windowStartUs: number;
  windowEndUs: number;
  delivered: number;
  deliveredTotal: number;
  histogram: Uint32Array;
  maxLatencyUs: number;
  disconnected: number;
  /** `:<nick>!` of the watched client, and what was seen of its QUIT. */
  watchPrefix: string | null;
  watchQuitUs: number | null;
  watchQuitReason: string | null;
}

const loadClients: LoadClient[] = [];
let currentRun: RunState | null = null;

/** A PRIVMSG line (`:prefix PRIVMSG target :<sendUs> ...`): counted and timed; false if it is not one. */
function takeDelivery(buf: Buffer, start: number, end: number, nowUs: number): boolean {
  // Tags (server-time, msgid) come first when the client enabled them: skipped.
  if (buf[start] === AT) {
    const space = buf.indexOf(SPACE, start);
    if (space === -1 || space >= end) return false;
    start = space + 1;
  }
  if (buf[start] !== COLON) return false;
  let i = start + 1;
  while (i < end && buf[i] !== SPACE) i += 1;
  i += 1;
  if (end - i < privmsgBytes.length + 2) return false;
  for (let k = 0; k < privmsgBytes.length; k += 1) if (buf[i + k] !== privmsgBytes[k]) return false;
  i += privmsgBytes.length;
  while (i < end && buf[i] !== SPACE) i += 1;
  if (buf[i + 1] !== COLON) return true;
  i += 2;
  let sentUs = 0;
  for (; i < end; i += 1) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    sentUs = sentUs * 10 + d;
  }
  const run = currentRun;
  if (!run || sentUs < run.sendStartUs) return true;
  run.deliveredTotal += 1;
  if (nowUs >= run.windowStartUs && nowUs < run.windowEndUs) {
    const latency = nowUs - sentUs;
    run.delivered += 1;
    run.histogram[bucketOf(latency)]! += 1;
    if (latency > run.maxLatencyUs) run.maxLatencyUs = latency;
  }
  return true;
}

/** Any other line: registration and join replies, PING, the watched client's QUIT. */
function takeLine(c: LoadClient, tagged: string, nowUs: number): void {
  // Tags (server-time) come first when the client enabled them: skipped.
  const line = tagged.charCodeAt(0) === AT ? tagged.slice(tagged.indexOf(' ') + 1) : tagged;
  if (line.startsWith('PING')) {
    c.socket.write(`PONG${line.slice(4)}\r\n`);
    return;
  }
  if (line.startsWith('ERROR')) {
    c.errorCode ??= 'serverError';
    return;
  }
  const run = currentRun;
  if (run?.watchPrefix && run.watchQuitUs === null && line.startsWith(run.watchPrefix)) {
    const m = / QUIT(?: :?(.*))?$/.exec(line);
    if (m) {
      run.watchQuitUs = nowUs;
      run.watchQuitReason = m[1] ?? '';
    }
    return;
  }
  const parts = line.split(' ', 4);
  const numeric = parts[1];
  if (c.phase === 'registering') {
    // Registration waits for CAP END: sent once the server has acknowledged the caps, so a
    // tagged run cannot silently measure untagged clients.
    if (numeric === 'CAP' && parts[3] === 'ACK') c.socket.write('CAP END\r\n');
    else if (numeric === 'CAP' && parts[3] === 'NAK') {
      c.errorCode ??= 'capNak';
      c.socket.destroy();
    } else if ((numeric === '376' || numeric === '422') && c.spec.channel === null) joined(c);
    else if (numeric === '376' || numeric === '422') {
      c.phase = 'joining';
      c.socket.write(`JOIN ${c.spec.channel}\r\n`);
    } else if (numeric === '433' || numeric === '432') {
      c.errorCode ??= `nick${numeric}`;
      c.socket.destroy();
    }
  } else if (c.phase === 'joining' && numeric === '366') joined(c);
  else if (c.phase === 'joining' && numeric !== undefined && /^4\d\d$/.test(numeric)) {
    c.errorCode ??= `join${numeric}`;
    c.socket.destroy();
  }
}

function joined(c: LoadClient): void {
  c.phase = 'joined';
  c.settle?.(null);
  c.settle = null;
}

function clientOnData(c: LoadClient, chunk: Buffer): void {
  const nowUs = monoUs();
  let buf = chunk;
  if (c.partial) {
    buf = Buffer.concat([c.partial, chunk]);
    c.partial = null;
  }
  let start = 0;
  for (;;) {
    const lf = buf.indexOf(LF, start);
    if (lf === -1) break;
    if (!takeDelivery(buf, start, lf, nowUs)) {
      const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
      takeLine(c, buf.toString('utf8', start, end), nowUs);
    }
    start = lf + 1;
  }
  if (start < buf.length) {
    if (buf.length - start > maxLineBytes) {
      c.errorCode ??= 'lineTooLong';
      c.socket.destroy();
      return;
    }
    c.partial = Buffer.from(buf.subarray(start));
  }
}

function openClient(spec: ClientSpec, settle: (failure: string | null) => void): LoadClient {
  const socket = net.connect({ host, port: spec.port });
  const c: LoadClient = { spec, socket, partial: null, phase: 'registering', settle, errorCode: null, sendTimer: null };
  // Each send is one line: Nagle would hold it back behind an unACKed one and skew its time.
  socket.setNoDelay(true);
  const register = `NICK ${spec.nick}\r\nUSER u 0 * :irc fan-out bench\r\n`;
  // CAP LS holds registration open until the CAP END that answers the ACK (takeLine).
  socket.on('connect', () => socket.write(spec.caps ? `CAP LS 302\r\nCAP REQ :${spec.caps}\r\n${register}` : register));
  socket.on('data', (chunk: Buffer) => clientOnData(c, chunk));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    c.errorCode ??= err.code ?? 'UNKNOWN';
  });
  socket.on('close', () => {
    if (c.sendTimer) clearTimeout(c.sendTimer);
    c.sendTimer = null;
    if (c.phase === 'joined' && currentRun) currentRun.disconnected += 1;
    c.phase = 'closed';
    c.settle?.(c.errorCode ?? 'closed');
    c.settle = null;
  });
  return c;
}

function connectAll(req: Extract<LoadBody, { type: 'connect' }>): Promise<ConnectResult> {
  const t0 = performance.now();
  const failures: Record<string, number> = {};
  const joinedByChannel: Record<string, number> = {};
  let next = 0;
  let pending = 0;
  let settled = 0;
  let joinedCount = 0;
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ joined: joinedCount, joinedByChannel, failures, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => {
      for (const c of loadClients) {
        if (c.settle) {
          c.settle = null;
          c.socket.destroy();
        }
      }
      tally(failures, 'timeout', req.clients.length - settled);
      finish();
    }, req.timeoutMs);
    const fill = (): void => {
      while (!finished && pending < req.maxPending && next < req.clients.length) {
        const spec = req.clients[next++]!;
        pending += 1;
        loadClients.push(
          openClient(spec, (failure) => {
            pending -= 1;
            settled += 1;
            if (failure === null) {
              joinedCount += 1;
              if (spec.channel !== null) tally(joinedByChannel, spec.channel);
            } else tally(failures, failure);
            if (settled === req.clients.length) finish();
            else fill();
          }),
        );
      }
    };
    if (req.clients.length === 0) finish();
    else fill();
  });
}

async function runLoad(req: RunRequest): Promise<RunResult> {
  const run: RunState = {
    sendStartUs: req.sendStartUs,
    windowStartUs: req.windowStartUs,
    windowEndUs: req.windowEndUs,
    delivered: 0,
    deliveredTotal: 0,
    histogram: new Uint32Array(histogramSize),
    maxLatencyUs: 0,
    disconnected: 0,
    watchPrefix: req.watch ? `:${req.watch.nick}!` : null,
    watchQuitUs: null,
    watchQuitReason: null,
  };
  currentRun = run;
  /** Past sendEndUs only while the watched QUIT has not come. */
  const sendingUntilUs = (): number => (req.watch && run.watchQuitUs === null ? Math.max(req.sendEndUs, req.watch.untilUs) : req.sendEndUs);
  const sentByChannel: Record<string, number> = {};
  let sentInWindow = 0;
  let firstSendUs: number | null = null;
  let lateSends = 0;
  let maxSendLagMs = 0;
  const periodUs = req.periodMs * 1000;
  const pad = ` ${'x'.repeat(Math.max(0, req.textBytes - 14))}`;
  for (const c of loadClients) {
    const channel = c.spec.channel;
    if (c.phase !== 'joined' || channel === null) continue;
    // Each client starts at its own random phase, so the sends are spread over the period.
    let dueUs = req.sendStartUs + Math.random() * periodUs;
    const tick = (): void => {
      c.sendTimer = null;
      const nowUs = monoUs();
      if (nowUs >= sendingUntilUs() || c.phase !== 'joined') return;
      // A timer may fire up to a millisecond early (its start is the loop's cached time): wait
      // for the due time, or the first line could carry a time before the run's start.
      if (nowUs < dueUs) {
        c.sendTimer = setTimeout(tick, Math.ceil((dueUs - nowUs) / 1000));
        return;
      }
      const lagMs = (nowUs - dueUs) / 1000;
      if (lagMs > lateSendMs) lateSends += 1;
      if (lagMs > maxSendLagMs) maxSendLagMs = lagMs;
      c.socket.write(`PRIVMSG ${channel} :${nowUs}${pad}\r\n`);
      firstSendUs ??= nowUs;
      tally(sentByChannel, channel);
      if (nowUs >= req.windowStartUs && nowUs < req.windowEndUs) sentInWindow += 1;
      // The schedule, not the last send, sets the next one: a late timer does not slow the rate.
      dueUs += periodUs;
      c.sendTimer = setTimeout(tick, Math.max(0, (dueUs - monoUs()) / 1000));
    };
    c.sendTimer = setTimeout(tick, Math.max(0, (dueUs - monoUs()) / 1000));
  }
  await until(req.sendEndUs);
  while (monoUs() < sendingUntilUs()) await sleep(watchPollMs);
  await sleep(20);
  for (const c of loadClients) {
    if (c.sendTimer) clearTimeout(c.sendTimer);
    c.sendTimer = null;
  }
  // Drain: until nothing arrived for drainQuietMs, or drainMaxMs.
  const drainEnd = performance.now() + req.drainMaxMs;
  let last = -1;
  while (performance.now() < drainEnd && run.deliveredTotal !== last) {
    last = run.deliveredTotal;
    await sleep(drainQuietMs);
  }
  currentRun = null;
  return {
    sentByChannel,
    sentInWindow,
    firstSendUs,
    delivered: run.delivered,
    deliveredTotal: run.deliveredTotal,
    histogram: histogramPairs(run.histogram),
    maxLatencyUs: run.maxLatencyUs,
    disconnected: run.disconnected,
    lateSends,
    maxSendLagMs,
    watchQuitUs: run.watchQuitUs,
    watchQuitReason: run.watchQuitReason,
  };
}

async function quitAll(timeoutMs: number): Promise<number> {
  const open = loadClients.filter((c) => c.phase !== 'closed');
  const closed = Promise.all(open.map((c) => new Promise<void>((resolve) => c.socket.once('close', () => resolve()))));
  // QUIT without our FIN: the server closes first, so TIME_WAIT lands on its side and not on
  // the load generator's ephemeral ports (10,000 idle clients per server, several servers a run).
  for (const c of open) c.socket.write('QUIT :bench done\r\n');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  let destroyed = 0;
  for (const c of loadClients) {
    if (c.phase === 'closed') continue;
    destroyed += 1;
    c.socket.destroy();
  }
  loadClients.length = 0;
  return destroyed;
}

// --- The registration storm ----------------------------------------------------------------------

/** A line longer than this before the 001 ends the attempt (it is not IRC). */
const maxStormLineBytes = 8 * 1024;

/** The storm; resolves when every slot has finished its last attempt. */
async function registrationStorm(req: StormRequest): Promise<StormResult> {
  const histogram = new Uint32Array(histogramSize);
  const failures: Record<string, number> = {};
  const session = req.session ?? {};
  let registered = 0;
  let quitTimeouts = 0;
  let replayedLines = 0;
  let maxUs = 0;
  let seq = 0;
  await until(req.startUs);
  return new Promise((resolve) => {
    let slots = req.concurrency;
    const result = (): StormResult => ({ registered, histogram: histogramPairs(histogram), maxUs, failures, quitTimeouts, replayedLines });
    const slotDone = (): void => {
      slots -= 1;
      if (slots === 0) resolve(result());
    };
    if (slots === 0) resolve(result());
    const attempt = (slot: number): void => {
      if (monoUs() >= req.endUs) {
        slotDone();
        return;
      }
      const t0 = monoUs();
      const socket = net.connect({ host, port: req.port });
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      const register = `NICK ${req.nickPrefix}${seq++}\r\nUSER u 0 * :irc registration bench\r\n`;
      /** Past its last step: QUIT sent, the rest not read. */
      let welcomed = false;
      let failure: string | null = null;
      let partial = '';
      let inBatch = 0;
      const timer = setTimeout(() => {
        if (welcomed) quitTimeouts += 1;
        else failure ??= 'timeout';
        socket.destroy();
      }, req.attemptTimeoutMs);
      const fail = (why: string): void => {
        failure ??= why;
        socket.destroy();
      };
      const done = (): void => {
        welcomed = true;
        const nowUs = monoUs();
        if (nowUs >= req.windowStartUs && nowUs < req.windowEndUs) {
          registered += 1;
          histogram[bucketOf(nowUs - t0)]! += 1;
          maxUs = Math.max(maxUs, nowUs - t0);
          replayedLines += inBatch;
        }
        // The rest (of the welcome burst) is not read; the server closes after the QUIT.
        socket.write('QUIT\r\n');
      };
      const takeStormLine = (tagged: string): void => {
        if (tagged.startsWith('PING')) {
          socket.write(`PONG${tagged.slice(4)}\r\n`);
          return;
        }
        if (tagged.startsWith('ERROR')) {
          failure ??= 'serverError';
          return;
        }
        // Tags (server-time, batch) come first when the session enabled them.
        const line = tagged.startsWith('@') ? tagged.slice(tagged.indexOf(' ') + 1) : tagged;
        const [, verb, arg, sub, rest] = line.split(' ', 5);
        if (verb === 'CAP' && sub === 'LS' && rest !== '*') socket.write(`CAP REQ :${session.caps}\r\n`);
        else if (verb === 'CAP' && sub === 'ACK') {
          const sasl = session.sasl;
          socket.write(sasl ? 'AUTHENTICATE PLAIN\r\n' : `${register}CAP END\r\n`);
        } else if (verb === 'CAP' && sub === 'NAK') fail('capNak');
        else if (session.sasl && (line.startsWith('AUTHENTICATE +') || (verb === 'AUTHENTICATE' && arg === '+'))) {
          const { accounts, password } = session.sasl;
          socket.write(`AUTHENTICATE ${plainPayload(accounts[slot % accounts.length]!, password)}\r\n`);
        } else if (verb === '903') socket.write(`${register}CAP END\r\n`);
        else if (verb === '001') {
          if (session.join) socket.write(`JOIN ${session.join.channel}\r\n`);
          else done();
        } else if (verb === '366' && session.join) {
          if (session.join.latest === null) done();
          else socket.write(`CHATHISTORY LATEST ${session.join.channel} * ${session.join.latest}\r\n`);
        } else if (verb === 'BATCH' && arg?.startsWith('-')) done();
        else if (tagged.startsWith('@batch=') || tagged.includes(';batch=')) inBatch += 1;
        else if (verb === 'FAIL' || (verb !== undefined && /^(90[24-8]|4\d\d)$/.test(verb))) fail(`reply${verb}`);
      };
      socket.on('connect', () => socket.write(session.caps ? 'CAP LS 302\r\n' : register));
      socket.on('data', (chunk: string) => {
        if (welcomed) return;
        partial += chunk;
        for (let lf = partial.indexOf('\n'); lf !== -1 && !welcomed; lf = partial.indexOf('\n')) {
          takeStormLine(partial.slice(0, lf).replace(/\r$/, ''));
          partial = partial.slice(lf + 1);
        }
        if (partial.length > maxStormLineBytes) fail('lineTooLong');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        failure ??= err.code ?? 'UNKNOWN';
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (welcomed) setImmediate(attempt, slot);
        else {
          tally(failures, failure ?? 'closed');
          setTimeout(attempt, failureBackoffMs, slot);
        }
      });
    };
    for (let i = 0; i < req.concurrency; i += 1) attempt(i);
  });
}

// --- The login storm -------------------------------------------------------------------------

/** SASL PLAIN's message, `authzid NUL authcid NUL password`, empty authzid, in base64. */
const plainPayload = (account: string, password: string): string => Buffer.from(`\0${account}\0${password}`, 'utf8').toString('base64');

/** Every attempt at once; resolves when each has ended (closed by the server after its QUIT, or cut). */
async function loginStorm(req: LoginStormRequest): Promise<LoginStormResult> {
  const histogram = new Uint32Array(histogramSize);
  const failures: Record<string, number> = {};
  let succeeded = 0;
  let refused = 0;
  let welcomed = 0;
  let maxUs = 0;
  let lastAnswerUs: number | null = null;
  await until(req.startUs);
  const one = (a: LoginAttempt): Promise<void> =>
    new Promise((resolve) => {
      const t0 = monoUs();
      const socket = net.connect({ host, port: req.port, localAddress: a.from });
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      let answered = false;
      let failure: string | null = null;
      let partial = '';
      const timer = setTimeout(() => {
        if (!answered) failure ??= 'timeout';
        socket.destroy();
      }, req.attemptTimeoutMs);
      const answer = (ok: boolean): void => {
        const nowUs = monoUs();
        answered = true;
        lastAnswerUs = Math.max(lastAnswerUs ?? 0, nowUs);
        if (ok) {
          succeeded += 1;
          histogram[bucketOf(nowUs - t0)]! += 1;
          maxUs = Math.max(maxUs, nowUs - t0);
        } else refused += 1;
        socket.write('CAP END\r\n');
      };
      const takeLoginLine = (line: string): void => {
        if (line.startsWith('PING')) {
          socket.write(`PONG${line.slice(4)}\r\n`);
          return;
        }
        if (line.startsWith('ERROR')) {
          if (!answered) failure ??= 'serverError';
          return;
        }
        const [, verb, arg, sub] = line.split(' ', 4);
        if (verb === 'AUTHENTICATE' && arg === '+') socket.write(`AUTHENTICATE ${plainPayload(a.account, a.password)}\r\n`);
        else if (verb === 'CAP' && sub === 'ACK') socket.write('AUTHENTICATE PLAIN\r\n');
        else if (verb === 'CAP' && sub === 'NAK') {
          failure ??= 'capNak';
          socket.destroy();
        } else if (verb === '903') answer(true);
        else if (verb === '904') answer(false);
        else if (verb === '001') {
          welcomed += 1;
          // The rest of the welcome burst is not read; the server closes after the QUIT.
          socket.write('QUIT\r\n');
        } else if (verb !== undefined && /^(90[25-8]|4\d\d)$/.test(verb)) {
          if (!answered) failure ??= `reply${verb}`;
          socket.destroy();
        }
      };
      // CAP REQ first: registration then waits for CAP END, which comes after the 903 or 904.
      socket.on('connect', () => socket.write(`CAP REQ :sasl\r\nNICK ${a.nick}\r\nUSER u 0 * :irc login storm\r\n`));
      socket.on('data', (chunk: string) => {
        partial += chunk;
        for (let lf = partial.indexOf('\n'); lf !== -1; lf = partial.indexOf('\n')) {
          takeLoginLine(partial.slice(0, lf).replace(/\r$/, ''));
          partial = partial.slice(lf + 1);
        }
        if (partial.length > maxStormLineBytes) {
          failure ??= 'lineTooLong';
          socket.destroy();
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (!answered) failure ??= err.code ?? 'UNKNOWN';
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (!answered) tally(failures, failure ?? 'closed');
        resolve();
      });
    });
  await Promise.all(req.attempts.map(one));
  return { succeeded, refused, failures, histogram: histogramPairs(histogram), maxUs, lastAnswerUs, welcomed };
}

// --- The process -------------------------------------------------------------------------------

if (process.argv[2] === '--load-process') {
  serveRequests<LoadRequest>('loadgen.js --load-process', (req) =>
    req.type === 'connect'
      ? connectAll(req)
      : req.type === 'run'
        ? runLoad(req)
        : req.type === 'storm'
          ? registrationStorm(req)
          : req.type === 'logins'
            ? loginStorm(req)
            : req.type === 'quit'
              ? quitAll(req.timeoutMs)
              : handleJoinStorm(req),
  );
}
