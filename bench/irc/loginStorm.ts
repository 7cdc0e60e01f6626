// The login storm, for run.ts (`npm run bench:irc -- --only login-storm`): whether hundreds of
// SASL logins at once move everyone else's delivery latency (the target: they must not move the
// other clients' p99). Ours only: the other servers have no accounts of their own.
//   - Before the server starts, `logins` accounts are created directly in a fresh --data-dir
//     (src/store/sqliteStore.ts), all with one set of credentials derived once: a login costs
//     the server the same scrypt whatever the salt, and the setup takes a second, not minutes.
//   - The fan-out load (run.ts gives the first scenario) runs one window without logins, then,
//     after a short warm-up, one that starts with every attempt at once, from the side load
//     process (not the chat's load generators, whose event loops time the deliveries): each
//     connects, sends CAP REQ sasl, NICK, USER, AUTHENTICATE PLAIN, its payload, waits for the
//     903, sends CAP END, waits for the 001 and QUITs. `wrongLogins` more give a wrong password,
//     each from its own address (127.0.0.2, ...): the per-IP throttle counts failures only, so
//     they are refused for the password (904), never for the throttle.
//   - In each window, the server's threads from /proc schedstat: its main thread (the event loop)
//     on a CPU and waiting for one, and all its threads (libuv's pool, where scrypt runs; the
//     store's worker thread; V8's). What moves there says why the latency moved: with every
//     hash queued at once, libuv's 4 pool threads take the CPUs and the event loop, runnable,
//     waits for one. `UV_THREADPOOL_SIZE=1 npm run bench:irc -- --only login-storm` (the server
//     inherits it) shows the same storm with one hash at a time.

import { performance } from 'node:perf_hooks';
import { deriveCredentials } from '../../src/identity/passwords.js';
import { accountKey } from '../../src/irc/commands/accounts.js';
import { openSqliteStore } from '../../src/store/sqliteStore.js';
import { histogramPercentile, mergeHistograms } from '../lib/stats.js';
import { monoUs } from '../lib/wait.js';
import type { LoginAttempt, LoginStormResult } from './loadgen.js';
import { threadsOver, type IrcBench, type Scenario, type WindowEdges } from './measure.js';
import { tempDir, type UnderTest } from './peers.js';
import type { IrcLoginStormRun, IrcThreadTimes } from './results.js';

/** Logins with the right password by default, and at most (--logins). */
export const defaultLogins = 300;
export const maxLogins = 2_000;
/** One wrong password per this many right ones, at most one per address in 127.0.0.2–127.0.0.251. */
const rightPerWrong = 10;
const maxWrongLogins = 250;
export const wrongLoginsFor = (logins: number): number => Math.min(maxWrongLogins, Math.floor(logins / rightPerWrong));
/** Sending after the first window and before the second (the sends pause in between). */
const secondWarmupMs = 1_000;
/**
 * One attempt without its 903 or 904 after this is cut. Every attempt starts at once and the
 * scrypt hashes queue on libuv's pool: 2,000 of ~30 ms on 4 threads of 2 cores take ~30 s.
 */
const attemptTimeoutMs = 60_000;
/** Every account's password (sasl-registration, saslRegistration.ts, logs in with it too). */
export const accountPassword = 'login-storm-password';

export interface LoginStormSettings {
  logins: number;
}

/** The accounts `a0`, `a1`, ... created in a store in `dataDir` (which the server then opens). */
export async function createAccounts(dataDir: string, n: number): Promise<void> {
  const store = await openSqliteStore(dataDir);
  try {
    const credentials = await deriveCredentials(accountPassword);
    const registeredAt = Date.now();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const name = `a${i}`;
        if (!(await store.createAccount(accountKey(name), { name, email: null, registeredAt }, credentials))) throw new Error(`account ${name} exists in a fresh store`);
      }),
    );
  } finally {
    await store.close();
  }
}

/** The storm's attempts: the right password for every account, then a wrong one for the first few. */
function attemptsFor(logins: number): LoginAttempt[] {
  const right = Array.from({ length: logins }, (_, i) => ({ account: `a${i}`, password: accountPassword, nick: `s${i}`, from: '127.0.0.1' }));
  const wrong = Array.from({ length: wrongLoginsFor(logins) }, (_, i) => ({ account: `a${i}`, password: `${accountPassword}-wrong`, nick: `w${i}`, from: `127.0.0.${2 + i}` }));
  return [...right, ...wrong];
}

/** One login storm: ours with its accounts, the scenario's load, a window without and one with. */
export async function measureLoginStorm(h: IrcBench, scenario: Scenario, s: LoginStormSettings): Promise<IrcLoginStormRun> {
  const side = await h.sideProcess();
  const dir = tempDir('irc-login-storm-');
  try {
    const t0 = performance.now();
    await createAccounts(dir.path, s.logins);
    const prepareMs = performance.now() - t0;
    const attempts = attemptsFor(s.logins);
    const storm = async (w: WindowEdges, server: UnderTest): Promise<{ threads: IrcThreadTimes; result: LoginStormResult; startUs: number }> => {
      const body = { type: 'logins' as const, port: server.ports[0]!, startUs: w.startUs, attempts, attemptTimeoutMs };
      const result = side.request<LoginStormResult>(body, (w.startUs - monoUs()) / 1000 + attemptTimeoutMs);
      // Awaited below; a failure before that must not surface as an unhandled rejection.
      result.catch(() => undefined);
      const threads = await threadsOver(w, server);
      return { threads, result: await result, startUs: w.startUs };
    };
    const r = await h.twoWindows('ours', scenario, { oursArgs: ['--data-dir', dir.path] }, secondWarmupMs, [threadsOver, storm]);
    const { result, startUs } = r.secondDuring;
    const histogram = mergeHistograms([result.histogram]);
    const wrongLogins = attempts.length - s.logins;
    return {
      server: 'ours',
      logins: s.logins,
      wrongLogins,
      without: r.first,
      with: r.second,
      threadsWithout: r.firstDuring,
      threadsWith: r.secondDuring.threads,
      succeeded: result.succeeded,
      refused: result.refused,
      failures: result.failures,
      welcomed: result.welcomed,
      stormMs: result.lastAnswerUs === null ? null : (result.lastAnswerUs - startUs) / 1000,
      loginP50Ms: histogramPercentile(histogram, 50) / 1000,
      loginP99Ms: histogramPercentile(histogram, 99) / 1000,
      loginMaxMs: result.maxUs / 1000,
      prepareMs,
    };
  } finally {
    dir.remove();
  }
}
