#!/usr/bin/env node
// The server command: flags in, a running server out. It builds the protocol `--protocol`
// names (from the table below; the listener knows none) and hands it to the listener, picks the
// log sink, turns SIGINT/SIGTERM into `server.shutdown` events (how shutdown happens is the
// machine's business) and, when asked, starts the WebSocket, metrics and inspection outputs.
// `--config FILE` settings come before the flags (configFile.ts); SIGHUP reads the file's
// operators again. `xstate-tcp-chat hash-password` turns a password on stdin into the hash an
// `opers` entry holds. Exit codes: 0 after a shutdown, 1 when an address could not be claimed
// (or the store opened), 2 for bad flags.

import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { AnyStateMachine, InspectionEvent } from 'xstate';
import type { ProtocolName, ServerConfig } from '../core/config.js';
import { ChatError, listenFailure } from '../core/errors.js';
import { startServer } from '../core/listener.js';
import { startMemoryReclaim } from '../ops/memoryReclaim.js';
import { humanLogger, jsonLogger, type Logger } from '../core/logger.js';
import type { SessionProtocol } from '../core/protocol.js';
import { serverMachine } from '../core/serverMachine.js';
import { connectionMachine } from '../greeting/connectionMachine.js';
import { greetingProtocol } from '../greeting/session.js';
import { startIrc, type IrcService } from '../irc/service.js';
import { ircSessionMachine } from '../irc/session/ircSessionMachine.js';
import { isWorker, leaveCluster, onPrimaryShutdown, reportFailure, shareRehash, startPrimary, workerId } from '../ops/cluster.js';
import { startInspectServer, type InspectServer } from '../ops/inspect/inspectServer.js';
import { Monitor, statePath } from '../ops/inspect/monitor.js';
import type { StatelyInspector } from '../ops/inspect/statelyInspector.js';
import type { WebServer } from '../transports/webServer.js';
import { parseServerArgs, serverUsage } from './args.js';
import { flagConflict } from './flagConflicts.js';
import { readConfigFile } from './configFile.js';
import { hashPassword, passwordProblem } from '../identity/passwords.js';

/** A protocol built and ready to hand to the listener; `close` runs after the listener stopped. */
interface StartedProtocol {
  protocol: SessionProtocol;
  close(): Promise<void>;
}

interface ProtocolEntry {
  /** The machine each session runs, drawn by --inspect before the protocol is built. */
  sessionMachine: AnyStateMachine;
  start(config: ServerConfig, logger: Logger, inspect: ((event: InspectionEvent) => void) | undefined): Promise<StartedProtocol>;
}

/** The protocols, by their --protocol name. Adding one is its own folder and a row here. */
const protocols: Record<ProtocolName, ProtocolEntry> = {
  greeting: {
    sessionMachine: connectionMachine,
    start: async (config, logger, inspect) => ({ protocol: greetingProtocol(config, logger, inspect), close: async () => {} }),
  },
  irc: {
    sessionMachine: ircSessionMachine,
    start: (config, logger, inspect) => {
      const file = config.configFile;
      if (file === null) return startIrc(config, logger, inspect);
      return startIrc(config, logger, inspect, {
        reloadOpers: () => ({ file, opers: readConfigFile(file).opers }),
        ...(isWorker ? { shareRehash } : {}),
      });
    },
  },
};

interface Inspection {
  observer: ((event: InspectionEvent) => void) | undefined;
  /** The server is running: the live view samples its chat totals (IRC). */
  attach(irc: IrcService | null): void;
  close(): Promise<void>;
}

/** Starts what --inspect and --inspect-ws ask for; with neither, no observer at all. */
async function startInspection(config: ServerConfig, logger: Logger): Promise<Inspection> {
  const observers: Array<(event: InspectionEvent) => void> = [];
  let page: InspectServer | null = null;
  let stately: StatelyInspector | null = null;
  let monitor: Monitor | null = null;
  let stopWatching = (): void => {};
  if (config.inspect) {
    const live = new Monitor();
    monitor = live;
    const where = config.inspect;
    // Loaded only for --inspect: the layout engine (elkjs) is ~26 MiB of RSS that a server
    // without the live view should not carry.
    const { renderMachineSvg } = await import('../ops/inspect/diagram.js');
    // The session diagram is the protocol's session machine, under the same name on the page.
    const diagrams = {
      server: await renderMachineSvg(serverMachine),
      connection: await renderMachineSvg(protocols[config.protocol].sessionMachine),
    };
    page = await bind('inspector', where, () => startInspectServer({ ...where, monitor: live, diagrams }));
    observers.push(live.inspect);
    logger.log('info', 'inspect.listening', { url: page.url });
  }
  if (config.inspectWs) {
    // Loaded only for --inspect-ws (@statelyai/inspect is ~14 MiB of RSS).
    const { startStatelyInspector } = await import('../ops/inspect/statelyInspector.js');
    stately = startStatelyInspector(config.inspectWs);
    observers.push(stately.inspect);
    logger.log('info', 'inspect.ws', { url: config.inspectWs });
  }
  const observer =
    observers.length === 0
      ? undefined
      : observers.length === 1
        ? observers[0]
        : (event: InspectionEvent) => {
            for (const o of observers) o(event);
          };
  return {
    observer,
    attach(irc) {
      if (monitor && irc) stopWatching = monitor.watchChat(() => irc.protocol.totals());
    },
    async close() {
      stopWatching();
      stately?.stop();
      await page?.close();
    },
  };
}

/**
 * Reads the files the flags name, once, before anything listens: the MOTD's lines, and the TLS
 * certificate and key (only checked here; the listener reads them). A file that cannot be read
 * is a bad flag, said in one line.
 */
function loadFiles(config: ServerConfig): void {
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      throw new ChatError('INVALID_ARGUMENT', `${flag} ${file}: cannot read it (${reason})`);
    }
  };
  if (config.irc.motdFile !== null) {
    const lines = read('--motd', config.irc.motdFile).replace(/\r?\n$/, '').split(/\r?\n/);
    config.irc = { ...config.irc, motd: lines };
  }
  const cert = config.tlsCert !== null ? read('--tls-cert', config.tlsCert) : null;
  const key = config.tlsKey !== null ? read('--tls-key', config.tlsKey) : null;
  if (cert !== null && key !== null) {
    // A file that is not a PEM certificate, or a key that is not the certificate's, would
    // otherwise throw from the listener with OpenSSL's stack trace.
    try {
      tls.createSecureContext({ cert, key });
    } catch (err) {
      throw new ChatError(
        'INVALID_ARGUMENT',
        `--tls-cert ${config.tlsCert} --tls-key ${config.tlsKey}: not a PEM certificate and its private key (${(err as Error).message})`,
      );
    }
  }
}

/** Bytes in MiB, one decimal (log fields). */
const mib = (bytes: number): number => Math.round(bytes / 104_857.6) / 10;

/** Exit 0 after a shutdown, 1 when the servers could not start. */
function finish(state: 'stopped' | 'failed'): void {
  process.exitCode = state === 'failed' ? 1 : 0;
  // Everything the process owned is closed by now, so it ends on its own. If some handle still
  // held it, that would be a bug; do not let it hang an operator's terminal.
  setTimeout(() => process.exit(), 1_000).unref();
}

/**
 * Runs `listen`, which claims `where`; an address that cannot be claimed (EADDRINUSE, ...)
 * becomes a ChatError saying which of the server's listeners it was.
 */
async function bind<T>(what: string, where: { host: string; port: number }, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const failure = listenFailure(e.code ?? 'UNKNOWN', e.message, where.host, where.port);
    throw new ChatError(failure.code, `${what}: ${failure.message}`);
  }
}

/**
 * The server could not start: says why (exit 1) after closing, in order, what had started.
 * Anything but a ChatError is a bug and is thrown on.
 */
async function startFailed(err: unknown, logger: Logger, ...started: Array<{ close(): Promise<void> } | null>): Promise<void> {
  if (!(err instanceof ChatError)) throw err;
  logger.log('error', 'server.failed', { code: err.code, message: err.message });
  for (const s of started) await s?.close();
  process.exitCode = 1;
}

/**
 * --metrics: binds the metrics port (before any server listens, so a busy port fails the start
 * as a busy server port does) and serves whatever `render` gives once it is set.
 */
async function startMetrics(config: ServerConfig, logger: Logger): Promise<Metrics | null> {
  if (!config.metrics) return null;
  const where = config.metrics;
  const metrics = await import('../ops/metrics.js');
  let render: (() => Promise<string>) | null = null;
  const server = await bind('metrics', where, () =>
    metrics.startMetricsServer(where, () => (render ? render() : Promise.resolve(''))),
  );
  logger.log('info', 'metrics.listening', { url: server.url });
  return { module: metrics, serve: (r) => (render = r), close: () => server.close() };
}

interface Metrics {
  module: typeof import('../ops/metrics.js');
  serve(render: () => Promise<string>): void;
  close(): Promise<void>;
}

/**
 * --websocket: binds the WebSocket port (before the IRC port, so a busy port fails the start as
 * a busy server port does); clients are handed to the server once it is attached.
 */
async function startWebSocket(config: ServerConfig, logger: Logger): Promise<WebServer | null> {
  if (!config.websocket) return null;
  const where = config.websocket;
  // Loaded only for --websocket: ws and the web client stay out of a server without it.
  const { startWebServer } = await import('../transports/webServer.js');
  const web = await bind('websocket', where, () => startWebServer({ ...config, websocket: where }, logger));
  logger.log('info', 'web.listening', { url: web.url, webSocketUrl: web.webSocketUrl, tls: config.tlsCert !== null });
  return web;
}

/** `--workers N`: this process is the primary; it only starts, watches and stops workers. */
async function runPrimary(config: ServerConfig, logger: Logger): Promise<void> {
  let metrics: Metrics | null;
  try {
    metrics = await startMetrics(config, logger);
  } catch (err) {
    return startFailed(err, logger);
  }
  const primary = startPrimary({
    workers: config.workers,
    shutdownGraceMs: config.shutdownGraceMs,
    logger,
    protocol: config.protocol,
    host: config.host,
    // Each worker binds the WebSocket port (if any) before the protocol's (see main()).
    listeners: config.websocket ? 2 : 1,
  });
  metrics?.serve(metrics.module.primaryRenderer(() => statePath(primary.actor.getSnapshot().value)));
  const onSignal = (): void => primary.shutdown();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP: each worker reads the config file's operators again.
  const onHangup = (): void => primary.signalWorkers('SIGHUP');
  process.on('SIGHUP', onHangup);
  const outcome = await primary.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHangup);
  await metrics?.close();
  finish(outcome.state);
}

/** `hash-password`: the scrypt hash of the password read from stdin, for the config file's `opers`. */
async function hashPasswordCommand(): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write('Password (then Enter; it is shown as you type, use a pipe to hide it): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && chunk.includes(10)) break;
  }
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  const problem = passwordProblem(password);
  if (problem !== null) {
    process.stderr.write(`xstate-tcp-chat hash-password: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hash-password') return hashPasswordCommand();
  let parsed;
  try {
    // The config file's settings go first: flags given after them win.
    const at = argv.findIndex((a) => a === '--config' || a.startsWith('--config='));
    const file = at < 0 ? null : argv[at]!.startsWith('--config=') ? argv[at]!.slice('--config='.length) : (argv[at + 1] ?? null);
    const fromFile = file === null ? null : readConfigFile(file);
    parsed = parseServerArgs(fromFile ? [...fromFile.argv, ...argv] : argv);
    if (parsed.kind === 'run' && fromFile) parsed.options.irc = { ...parsed.options.irc, opers: fromFile.opers };
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    process.stderr.write(`xstate-tcp-chat: ${err.message}\n\n${serverUsage()}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${serverUsage()}\n`);
    return;
  }
  const config = parsed.options;
  const conflict = flagConflict(config);
  if (conflict !== null) {
    process.stderr.write(`xstate-tcp-chat: ${conflict}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    loadFiles(config);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    process.stderr.write(`xstate-tcp-chat: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (config.workers > 1 && (config.inspect || config.inspectWs)) {
    // Each worker would be a separate view of a part of the clients.
    process.stderr.write(`xstate-tcp-chat: --inspect and --inspect-ws work with --workers 1 only\n\n${serverUsage()}\n`);
    process.exitCode = 2;
    return;
  }
  const sinkOptions = { worker: workerId() };
  const sink = config.logFormat === 'json' ? jsonLogger(sinkOptions) : humanLogger(sinkOptions);
  if (config.workers > 1 && !isWorker) return runPrimary(config, sink);
  // A worker does not print why it could not listen: it tells the primary, which says it once.
  const logger: Logger = isWorker
    ? {
        log(level, event, fields) {
          if (event === 'server.failed') void reportFailure(String(fields.code), String(fields.message));
          else sink.log(level, event, fields);
        },
      }
    : sink;
  // A signal while the server is still starting (a store or Redis slow to answer, up to their
  // connect timeouts): there is no server machine yet to send `server.shutdown` to, and nothing
  // served to drain, so the one stop that is not an event. Said, and exit 0, as for a stop once
  // running (Node's default would end the process with no word, code 143).
  const onEarlySignal = (): void => {
    logger.log('info', 'server.stopping', { live: 0 });
    logger.log('info', 'server.stopped', { forced: false });
    // 1 if the start had failed already (startFailed) and this came during its clean-up.
    process.exit(process.exitCode ?? 0);
  };
  process.once('SIGINT', onEarlySignal);
  process.once('SIGTERM', onEarlySignal);
  let inspection: Inspection;
  try {
    inspection = await startInspection(config, logger);
  } catch (err) {
    return startFailed(err, logger);
  }
  // A worker shares its figures with the primary, which serves them; it binds nothing itself.
  let metrics: Metrics | null = null;
  try {
    if (!isWorker) metrics = await startMetrics(config, logger);
  } catch (err) {
    return startFailed(err, logger, inspection);
  }
  // The protocol, built before anything is accepted (with --redis: this process joins the
  // network on Redis first).
  let started: StartedProtocol;
  try {
    started = await protocols[config.protocol].start(config, logger, inspection.observer);
  } catch (err) {
    return startFailed(err, logger, inspection, metrics);
  }
  const irc = config.protocol === 'irc' ? (started as IrcService) : null;
  let web: WebServer | null = null;
  try {
    web = await startWebSocket(config, logger);
  } catch (err) {
    return startFailed(err, logger, started, inspection, metrics);
  }
  // Loaded before the listener opens, so that everything from startServer to sharing the
  // registry runs in one turn: a worker answers the primary's scrapes from the moment it
  // listens (a worker that had not yet shared never answered, and the scrape failed after
  // prom-client's 5 s timeout).
  const metricsModule = config.metrics ? (metrics?.module ?? (await import('../ops/metrics.js'))) : null;
  const server = startServer(config, started.protocol, { logger, inspect: inspection.observer });
  const stopReclaim = startMemoryReclaim(
    { checkMs: config.reclaimCheckMs, maxBusy: config.reclaimMaxBusy, minSlackBytes: config.reclaimMinSlackBytes },
    (r) => logger.log('info', 'memory.reclaimed', { heapBeforeMiB: mib(r.heapBefore), heapAfterMiB: mib(r.heapAfter), rssMiB: mib(r.rss), ms: Math.round(r.ms) }),
  );
  // WebSocket clients are the server's from here: counted, capped and drained with the rest.
  web?.attach(server);
  // Clients without a socket here (relayed by other nodes, always-on users brought back) are
  // the server's too; the kept always-on users come back once it listens.
  irc?.protocol.adoptWith(server);
  // Another node took this node's place in the network: it stops (a service manager starts it
  // again, under an index of its own), and says so in its exit code.
  let indexTaken = false;
  irc?.network?.whenIndexTaken(() => {
    indexTaken = true;
    server.shutdown();
  });
  server.listening.then(
    () => irc?.protocol.restoreKept(),
    () => {},
  );
  inspection.attach(irc);
  if (metricsModule) {
    const registry = metricsModule.serverRegistry(server, irc);
    if (isWorker) metricsModule.shareWithPrimary(registry, workerId() ?? 0);
    else metrics?.serve(() => registry.metrics());
  }

  // The first signal asks for a graceful stop; a second one forces it (the machine's choice).
  // A worker may be asked twice for one Ctrl-C (the terminal signals the whole process group,
  // and the primary asks too): the primary's request never counts as the second one.
  process.off('SIGINT', onEarlySignal);
  process.off('SIGTERM', onEarlySignal);
  let asked = false;
  let signalled = false;
  const onSignal = (): void => {
    if (!asked || signalled) server.shutdown();
    asked = true;
    signalled = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP: read the config file's operators again, as REHASH does.
  const onHangup = (): void => void irc?.protocol.rehash();
  process.on('SIGHUP', onHangup);
  if (isWorker) {
    onPrimaryShutdown(() => {
      if (!asked) server.shutdown();
      asked = true;
    });
  }

  const outcome = await server.done;
  stopReclaim();
  await web?.close();
  // Every departure (QUIT to the other nodes) is out before the node leaves the network.
  await started.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHangup);
  await inspection.close();
  await metrics?.close();
  if (isWorker) leaveCluster();
  finish(indexTaken ? 'failed' : outcome.state);
}

void main(process.argv.slice(2));
