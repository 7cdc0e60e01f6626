// Every default and every limit of the server, in one place. Each limit names its unit and says
// what happens when it is hit; the README's flag table mirrors this file (a test checks it).

import { availableParallelism } from 'node:os';

/** The protocols the server speaks (`--protocol`); the CLI's protocol table has a row for each. */
export const protocolNames = ['greeting', 'irc'] as const;
export type ProtocolName = (typeof protocolNames)[number];

/** An IRC operator (the config file's `opers`): OPER <name> <password> checks the hash. */
export interface OperBlock {
  name: string;
  /** scrypt PHC string made by `xstate-tcp-chat hash-password` (never the password). */
  passwordHash: string;
}

export interface ServerConfig {
  /** `--config FILE`: the YAML file the settings were read from (REHASH reads it again), or null. */
  configFile: string | null;
  /** Interface to listen on. `localhost` as in the article. */
  host: string;
  /** TCP port; 0 asks the kernel for a free one (the real port is logged). */
  port: number;
  /** First line sent to every client (a newline is appended on the wire). */
  greeting: string;
  /**
   * Largest reply accepted, in bytes, not counting the line ending. A client that sends more
   * without a newline gets `error REPLY_TOO_LONG` and is closed; the buffer never holds more.
   */
  maxReplyBytes: number;
  /**
   * Total time a client has, from accept, to send its reply. Not reset by each byte, so a
   * client trickling one byte a second is still closed (`error REPLY_TIMEOUT`).
   */
  replyTimeoutMs: number;
  /**
   * How long a client may go quiet after sending bytes with no newline before what it sent is
   * taken as its reply (the article's single `recv` returned whatever had arrived).
   */
  replyQuietMs: number;
  /**
   * Clients served at once. One more is sent `error SERVER_BUSY` and closed; the others are
   * served as usual. Keep it under the process's descriptor limit (`ulimit -n`).
   */
  maxConnections: number;
  /**
   * After the server has said goodbye (or an error) and ended its side, how long it waits for
   * the client to close before it resets the connection (a TCP reset on plain TCP, so no
   * half-closed socket is left in the kernel). Protects against clients that never read and
   * never close.
   */
  closeTimeoutMs: number;
  /**
   * On SIGINT/SIGTERM, how long open connections get to finish their goodbye before they are
   * destroyed and the process exits anyway.
   */
  shutdownGraceMs: number;
  /**
   * How often the CLI looks whether to give memory back after a burst (src/ops/memoryReclaim.ts):
   * when the event loop was busy at most reclaimMaxBusy of the last interval and V8's heap holds
   * reclaimMinSlackBytes more than it uses, one full garbage collection shrinks it. 0 = never.
   */
  reclaimCheckMs: number;
  /** The share (0..1) of the last interval the event loop may have been busy for a reclaim. */
  reclaimMaxBusy: number;
  /** Heap held beyond what is used, bytes, that makes a reclaim worth its pause. */
  reclaimMinSlackBytes: number;
  /**
   * Completed handshakes the kernel queues for us before we accept them (`listen()` backlog;
   * Linux caps it at net.core.somaxconn). When it is full the kernel drops new SYNs and those
   * clients retry after a second, so a burst of clients needs room here. Node's default is 511.
   */
  listenBacklog: number;
  /** `human` lines like the article's, or one JSON object per line. */
  logFormat: 'human' | 'json';
  /**
   * Where to serve the live inspection page (`--inspect [host:]port`), or null for off. Off
   * means no inspection observer is attached at all: with one, actors run about half as fast.
   */
  inspect: { host: string; port: number } | null;
  /** WebSocket URL to stream XState inspection events to (Stately's inspector), or null. */
  inspectWs: string | null;
  /**
   * Where to serve Prometheus metrics (`--metrics [host:]port`, at /metrics), or null for off.
   * Everything is read when scraped: nothing is added per connection. With --workers the
   * primary serves every worker's figures, each series labelled with its worker.
   */
  metrics: { host: string; port: number } | null;
  /**
   * Server processes sharing the port (`--workers N|auto`, node:cluster). 1 runs the server in
   * this process; more start a primary that keeps N workers running and restarts any that die.
   * maxConnections applies per worker.
   */
  workers: number;
  /** `greeting` (the article's server, the default) or `irc` (the chat server). */
  protocol: ProtocolName;
  /**
   * PEM certificate and key files (`--tls-cert`, `--tls-key`): when both are set the port
   * speaks TLS (node:tls) for either protocol; null serves plain TCP.
   */
  tlsCert: string | null;
  tlsKey: string | null;
  /** How long a TLS client has to finish its handshake before it is dropped. */
  tlsHandshakeTimeoutMs: number;
  /**
   * IRC mode: where to serve IRC over WebSocket (IRCv3, `--websocket [host:]port`) and the web
   * client at `/`, or null for off. TLS (wss://, https://) when the TLS flags are given. Its
   * clients are sessions like any other: counted against maxConnections and the per-IP limit.
   */
  websocket: { host: string; port: number } | null;
  /**
   * Page origins (`https://chat.example`, normalised) whose scripts may open a WebSocket, on top
   * of the web client's own; `*` allows any, and clients that send no Origin. A handshake from
   * another origin, or with no Origin, is refused with 403 before it becomes a session.
   */
  websocketOrigins: string[] | null;
  /**
   * Largest WebSocket message accepted, in bytes: ws refuses a bigger one before buffering it
   * (close 1009, Message Too Big) and the session ends. Anything smaller is one line for the
   * framer, whose limits apply as over TCP (past maxLineBytes + maxTagBytes: 417, the client stays).
   */
  websocketMaxMessageBytes: number;
  /**
   * Time from the first byte of an HTTP request on the WebSocket port to its last header: a
   * client that trickles headers (slowloris) is dropped, never a session.
   */
  websocketHandshakeTimeoutMs: number;
  /** IRC mode only: names, password, MOTD and every per-client limit. */
  irc: IrcConfig;
}

/** IRC mode (`--protocol irc`). Limits with an ISUPPORT token are advertised in 005. */
export interface IrcConfig {
  /** The server's name, the source of its numerics and NOTICEs. */
  serverName: string;
  /** The network's name (ISUPPORT NETWORK). */
  network: string;
  /** Server password: when set, PASS must match or registration fails with 464. */
  password: string | null;
  /** The message-of-the-day file (`--motd FILE`), read once at start; null: none. */
  motdFile: string | null;
  /** Lines of the message of the day (read from motdFile); null: one line, the greeting. */
  motd: string[] | null;
  /**
   * Longest line a client may send, in bytes, CRLF included (RFC 1459: 512), not counting a
   * message-tags section. Longer: 417 ERR_INPUTTOOLONG, the line is dropped, the client stays.
   */
  maxLineBytes: number;
  /** Longest message-tags section a client may send (IRCv3: 4094 bytes plus '@' and ' '). */
  maxTagBytes: number;
  /**
   * Bytes of output a client may leave unread in the process (on top of what the kernel's
   * socket buffer holds) before it alone is closed with `ERROR :SendQ exceeded`.
   */
  sendqBytes: number;
  /**
   * A client written to less than this long ago has its next output held until this much time
   * has passed since that write, so that a busy client gets one write (one syscall) per
   * interval instead of one per event-loop turn; a client that was quiet is written at the end
   * of the turn. 0 writes every turn. At 200 clients in one busy channel, 5 ms halved
   * the writes (docs/benchmarks.md) and added at most that much to a line's delivery.
   */
  outputCoalesceMs: number;
  /**
   * Longest stretch one flush of pending output runs before it lets the event loop read again;
   * the rest is written on the next turn. A JOIN into a channel of 10,000 is 10,000 writes
   * (~50 ms): written in one go, a member's PING waited behind two or three of them. Replies
   * to a client's own command go first in a flush. A trade (docs/cost-of-a-user.md): 4 ms made
   * a 5,000-client join storm 40 % cheaper (more JOINs read per round of writes, so more lines
   * per write) but 1,000 clients in 10 busy channels 15 % dearer, their flushes cut in two.
   */
  outputSliceMs: number;
  /**
   * Bytes of received commands a client may have waiting (delayed by flood control, or behind
   * a slow command) before it is closed with `ERROR :Excess Flood`.
   */
  recvqBytes: number;
  /**
   * Bytes one line may run to, ended or not, before its client is closed with
   * `ERROR :ReadQ exceeded`: a line a little over maxLineBytes only gets 417, but a client
   * streaming bytes without a newline would otherwise be read (and its bytes scanned) forever.
   * Far above the longest acceptable line (maxTagBytes + maxLineBytes).
   */
  readqBytes: number;
  /** Flood control: commands a client may send at once before fakelag delays the rest. */
  floodBurstLines: number;
  /** Flood control: commands per second a client may send after its burst (fakelag). */
  floodRateLinesPerSecond: number;
  /** Time from connect to finished registration; then `ERROR :Registration timed out`. */
  registrationTimeoutMs: number;
  /** A registered client quiet this long is sent a PING. */
  pingIntervalMs: number;
  /** A PINGed client that sends nothing for this long is closed: `ERROR :Ping timeout`. */
  pingTimeoutMs: number;
  /** Channels one client may be in at once (ISUPPORT CHANLIMIT); more: 405. */
  maxChannelsPerClient: number;
  /** Connections from one IP address at once; one more gets `ERROR` and is closed. */
  maxConnectionsPerIp: number;
  /** ISUPPORT NICKLEN: longest nick, in characters. */
  nickLength: number;
  /** ISUPPORT CHANNELLEN: longest channel name, in characters, `#` included. */
  channelLength: number;
  /** ISUPPORT TOPICLEN: longer topics are cut to this many characters. */
  topicLength: number;
  /** ISUPPORT AWAYLEN: longer away messages are cut. */
  awayLength: number;
  /** ISUPPORT KICKLEN: longer kick reasons are cut. */
  kickLength: number;
  /** ISUPPORT TARGMAX/MAXTARGETS: targets of one PRIVMSG or NOTICE. */
  maxTargets: number;
  /** Masks each list of a channel (+b, +e, +I, +q) may hold; past it a mode change gets 478 (ISUPPORT MAXLIST). */
  maxBansPerChannel: number;
  /**
   * draft/multiline: bytes of text one multiline message may hold (its lines' texts together),
   * advertised as `max-bytes`. More: `FAIL BATCH MULTILINE_MAX_BYTES`, the whole batch is
   * dropped; it also bounds what a client's open batch holds in memory.
   */
  multilineMaxBytes: number;
  /** draft/multiline: lines one multiline message may have (`max-lines`); more: MULTILINE_MAX_LINES. */
  multilineMaxLines: number;
  /**
   * Nicks one client may watch with MONITOR (ISUPPORT MONITOR); past it MONITOR + answers 734
   * with the nicks left out. Bounds the per-node watcher index a client can grow.
   */
  maxMonitorTargets: number;
  /**
   * ISUPPORT NAMELEN: longest realname, in characters. USER cuts a longer one; SETNAME refuses
   * it (FAIL SETNAME INVALID_REALNAME) and the realname stays as it was.
   */
  realnameLength: number;
  /** Longest host an operator may give with CHGHOST, in characters; longer: FAIL CHGHOST INVALID_HOSTNAME. */
  hostLength: number;
  /**
   * Time a channel keeps its name after a RENAME (draft/channel-rename) before it may be renamed
   * again; sooner: FAIL RENAME CANNOT_RENAME. Bounds the PART/JOIN/NAMES bursts one operator
   * can make every member without the capability receive.
   */
  channelRenameCooldownMs: number;
  /**
   * IRCv3 sts (`--sts-duration`): TLS connections see `sts=duration=<this>` in CAP LS 302, and
   * their clients then connect to this host over TLS only, for that long (0 lifts a policy they
   * keep). null: no policy is advertised (the spec wants it an operator's choice).
   */
  stsDurationSeconds: number | null;
  /**
   * IRCv3 sts (`--sts-port`): plain-text connections see `sts=port=<this>` in CAP LS 302 and
   * their clients reconnect there over TLS (a TLS node of the same network, or a TLS proxy).
   * null: plain-text clients are not asked to move.
   */
  stsPort: number | null;
  /**
   * `--redis URL`: the network state on Redis; every process started with the same URL and
   * network name is one IRC network. null: this process is the network (state in memory).
   */
  redisUrl: string | null;
  /**
   * `--redis-sentinel`: the network state on the Redis primary these Sentinels monitor as
   * redisName; every node follows a failover to the new primary (and resyncs, as after a Redis
   * restart). null: `--redis` (or no Redis).
   */
  redisSentinels: Array<{ host: string; port: number }> | null;
  /** `--redis-name`: the primary's name in the Sentinels' configuration. */
  redisName: string;
  /**
   * A node that has not refreshed its heartbeat for this long is dead: another node takes its
   * users off the network (QUIT with a netsplit-style reason) and frees their nicks.
   */
  nodeTimeoutMs: number;
  /** How often a node refreshes its heartbeat and checks the others'. */
  nodeHeartbeatMs: number;
  /**
   * `--data-dir DIR`: where the embedded store (SQLite) keeps accounts, registered channels
   * and bans, relative to the working directory. Created 0700 if missing, its file 0600.
   * Ignored with `databaseUrl`.
   */
  dataDir: string;
  /**
   * `--database postgres://...`: the store in PostgreSQL instead, for a network whose nodes
   * run on several machines (every node gives the same URL). null: SQLite in dataDir.
   */
  databaseUrl: string | null;
  /**
   * `--history on|off`: whether the network keeps what is said (docs/history.md), in the store
   * beside the accounts. off: nothing is kept, and draft/chathistory, draft/read-marker and
   * draft/message-redaction are not offered.
   */
  history: 'on' | 'off';
  /**
   * `--multiclient on|off`: connections logged in to one account are one user (one nick, the
   * same channels; what one says is echoed to the others), as a bouncer gives. A connection
   * joins the user holding the account's name as its nick, on the same node (docs/history.md).
   * off: each connection is a user of its own, as in classic IRC.
   */
  multiclient: 'on' | 'off';
  /**
   * `--history-max-age DAYS`: entries older than this are forgotten by the background trim; 0
   * keeps them as long as historyMaxPerTarget allows.
   */
  historyMaxAgeDays: number;
  /** `--history-max-per-target N`: entries one channel or conversation keeps; the trim forgets older ones. */
  historyMaxPerTarget: number;
  /** Most entries one CHATHISTORY request answers (ISUPPORT CHATHISTORY); a bigger limit is cut to it. */
  chathistoryMaxMessages: number;
  /**
   * Most messages an always-on user's next connection is replayed of what it missed, when its
   * client cannot ask for history (no draft/chathistory: irssi, WeeChat): the newest, across its
   * channels and conversations (src/irc/commands/alwaysOn.ts). Sent at once with the welcome, so
   * it stays well under sendqBytes; the rest is in the history, and a notice says so.
   */
  missedReplayMaxMessages: number;
  /**
   * Read markers a connection not logged in keeps (in memory, for its lifetime: MARKREAD
   * without an account); past it, setting one for a new target forgets the oldest.
   */
  connectionReadMarkersMax: number;
  /**
   * How often the background trim runs; each run forgets at most historyTrimBatchRows entries
   * per step and yields between steps, so it never holds the store (or delivery) for long.
   */
  historyTrimIntervalMs: number;
  historyTrimBatchRows: number;
  /**
   * Entries wait up to this long to be written together, one transaction per batch, off the
   * event loop: storing costs delivery a buffer push. A CHATHISTORY read on this node first
   * writes what waits, so a client always reads what it was sent. A commit costs most of a
   * batch's work (SQLite writes every index page it touched to the WAL): at 20 ms a busy
   * channel's entry cost ~90 µs of CPU, at 250 ms ~12 µs (bench:irc `history`). What a crash
   * can lose, and how late another node's readers see an entry: this long.
   */
  historyFlushMs: number;
  /** A batch is written at once when it reaches this many entries. */
  historyFlushMaxEntries: number;
  /**
   * Entries waiting to be written (the store slow or down) past which new ones are not kept:
   * memory stays bounded, delivery goes on, and the log says how many were lost.
   */
  historyBufferMaxEntries: number;
  /**
   * A client using a registered nick without being logged in to its account is told so, and
   * renamed to a guest nick when it has not logged in after this long.
   */
  nickEnforceGraceMs: number;
  /**
   * Failed logins (IDENTIFY, SASL) allowed per account and per IP address within
   * loginWindowMs; past it further attempts are refused (without checking the password) until
   * the window has passed: at most 1,440 guesses a day at one account.
   */
  loginFailuresPerWindow: number;
  loginWindowMs: number;
  /** IRC operators, from the config file's `opers` (none without one). */
  opers: readonly OperBlock[];
}

export const defaultConfig: Readonly<ServerConfig> = Object.freeze({
  configFile: null,
  host: 'localhost',
  port: 8028,
  greeting: "Hey What's up?",
  maxReplyBytes: 4096,
  replyTimeoutMs: 30_000,
  replyQuietMs: 250,
  maxConnections: 10_000,
  closeTimeoutMs: 2_000,
  shutdownGraceMs: 5_000,
  reclaimCheckMs: 10_000,
  reclaimMaxBusy: 0.1,
  reclaimMinSlackBytes: 16 * 1024 * 1024,
  listenBacklog: 2_048,
  logFormat: 'human',
  inspect: null,
  inspectWs: null,
  metrics: null,
  workers: 1,
  protocol: 'greeting',
  tlsCert: null,
  tlsKey: null,
  tlsHandshakeTimeoutMs: 10_000,
  websocket: null,
  websocketOrigins: null,
  websocketMaxMessageBytes: 16 * 1024,
  websocketHandshakeTimeoutMs: 10_000,
  irc: Object.freeze({
    serverName: 'irc.localhost',
    network: 'xstate-tcp-chat',
    password: null,
    motdFile: null,
    motd: null,
    maxLineBytes: 512,
    maxTagBytes: 4_096,
    sendqBytes: 64 * 1024,
    outputCoalesceMs: 5,
    outputSliceMs: 10,
    recvqBytes: 8 * 1024,
    readqBytes: 16 * 1024,
    floodBurstLines: 10,
    floodRateLinesPerSecond: 2,
    registrationTimeoutMs: 60_000,
    pingIntervalMs: 120_000,
    pingTimeoutMs: 60_000,
    maxChannelsPerClient: 50,
    maxConnectionsPerIp: 16,
    nickLength: 30,
    channelLength: 64,
    topicLength: 390,
    awayLength: 200,
    kickLength: 255,
    maxTargets: 4,
    multilineMaxBytes: 4_096,
    multilineMaxLines: 100,
    maxBansPerChannel: 100,
    maxMonitorTargets: 100,
    realnameLength: 128,
    hostLength: 64,
    channelRenameCooldownMs: 60_000,
    stsDurationSeconds: null,
    stsPort: null,
    redisUrl: null,
    redisSentinels: null,
    redisName: 'mymaster',
    nodeTimeoutMs: 5_000,
    nodeHeartbeatMs: 1_000,
    dataDir: 'data',
    databaseUrl: null,
    history: 'on',
    multiclient: 'on',
    historyMaxAgeDays: 30,
    historyMaxPerTarget: 100_000,
    chathistoryMaxMessages: 1_000,
    missedReplayMaxMessages: 100,
    connectionReadMarkersMax: 100,
    historyTrimIntervalMs: 60_000,
    historyTrimBatchRows: 1_000,
    historyFlushMs: 250,
    historyFlushMaxEntries: 500,
    historyBufferMaxEntries: 100_000,
    nickEnforceGraceMs: 30_000,
    loginFailuresPerWindow: 10,
    loginWindowMs: 600_000,
    opers: [],
  }) as IrcConfig,
});

/**
 * Password hashes (scrypt, PBKDF2) computed at once; the rest wait their turn. Each takes a core
 * for ~30 ms, and libuv's pool would run four at once: a login storm then took both cores of
 * a 2-core machine from the event loop and tripled everyone else's delivery p99
 * (docs/benchmarks.md, login storm). One core fewer than the machine has (at least one) leaves
 * the event loop a core of its own.
 */
export const maxConcurrentPasswordHashes = Math.max(1, availableParallelism() - 1);

/** The IRC port when `--protocol irc` is given without `--port` (8028 stays the greeting's). */
export const defaultIrcPort = 6667;

/** What a connection actor needs to know; derived from ServerConfig. */
export interface ConnectionLimits {
  greeting: string;
  maxReplyBytes: number;
  replyTimeoutMs: number;
  replyQuietMs: number;
  closeTimeoutMs: number;
}

export function connectionLimits(config: ServerConfig): ConnectionLimits {
  const { greeting, maxReplyBytes, replyTimeoutMs, replyQuietMs, closeTimeoutMs } = config;
  return { greeting, maxReplyBytes, replyTimeoutMs, replyQuietMs, closeTimeoutMs };
}

/** Whether the IRC network state is on Redis (`--redis`, or `--redis-sentinel`). */
export function usesRedis(irc: Pick<IrcConfig, 'redisUrl' | 'redisSentinels'>): boolean {
  return irc.redisUrl !== null || irc.redisSentinels !== null;
}
