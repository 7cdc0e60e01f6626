// Drives a real irssi (Debian's) the way a person does: it runs in a detached tmux session of a
// fixed size, keys are typed with `tmux send-keys`, and the screen is read with
// `tmux capture-pane`. Each irssi has its own temp dir holding its irssi home, a tmux config and
// the tmux socket (`tmux -S`), so parallel tests and the developer's own tmux never meet.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface IrssiOptions {
  port: number;
  nick: string;
  host?: string;
  /**
   * What on the screen says registration is complete. Default: the end of the MOTD (376) or its
   * absence (422), which every server sends once registration is done.
   */
  registered?: RegExp;
  /** How long to wait for that. */
  registerTimeoutMs?: number;
  /**
   * Log in with SASL while connecting: the server goes into irssi's config as one of a network's
   * (a chatnet with sasl_* settings, autoconnect), as a person sets it up once, instead of `-c`.
   */
  sasl?: { mechanism: 'PLAIN'; username: string; password: string };
}

export interface Irssi {
  readonly nick: string;
  /** The temp dir: irssi's home (`home/`), the tmux config and socket. */
  readonly dir: string;
  /** Types `text` (literally, as keystrokes) and then Enter. */
  sendKeys(text: string): Promise<void>;
  /** What the screen shows now, plus up to 200 lines tmux holds above it, wrapped lines joined. */
  screen(): Promise<string>;
  /** Polls the screen until it contains `pattern`; the timeout error shows the last screen. */
  waitForScreen(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** The pane title, which a terminal escape (OSC 0) from the network would change. */
  title(): Promise<string>;
  /** True once irssi's process has ended (the pane stays on screen, dead). */
  exited(): Promise<boolean>;
  /** Types `/quit reason`, waits for irssi to exit, then kills tmux and deletes the temp dir. */
  close(reason?: string): Promise<void>;
  /** Cleanup for failed tests: kills tmux (and irssi with it) and deletes the temp dir. */
  kill(): Promise<void>;
}

/** tmux reads the fixed size from new-session; this config only removes what gets in the way. */
const tmuxConf = `# One pane, no status line (the whole 200x50 is irssi's), and keep the pane when irssi exits
# so its last screen can still be read and its exit seen.
set -g status off
set -g remain-on-exit on
set -g history-limit 2000
set -g default-terminal screen
`;

/** A string for irssi's config file: in double quotes, with `\\` and `"` escaped. */
const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** The network `bench` (SASL as given) and its one server, connected to at startup. */
function networkConfig(host: string, port: number, sasl: NonNullable<IrssiOptions['sasl']>): string {
  return `servers = (
  { address = ${quoted(host)}; port = "${port}"; chatnet = "bench"; autoconnect = "yes"; use_tls = "no"; }
);
chatnets = {
  bench = {
    type = "IRC";
    sasl_mechanism = ${quoted(sasl.mechanism)};
    sasl_username = ${quoted(sasl.username)};
    sasl_password = ${quoted(sasl.password)};
  };
};
`;
}

function irssiConfig(nick: string): string {
  // Without real_name/user_name irssi prints "The following settings were initialized" on the
  // first run. autolog off: no log files; dcc_*: nothing is fetched or accepted by itself;
  // paste_detect_time 0: lines typed quickly are never held back as a "paste".
  // cmd_queue_speed 0: irssi's own flood throttle (5 commands, then one per 2.2 s) would hold a
  // /join typed right after registration for seconds; the server's flood control still applies.
  return `settings = {
  core = {
    real_name = "irssi harness";
    user_name = "${nick}";
    nick = "${nick}";
    settings_autosave = "no";
  };
  "fe-common/core" = {
    autolog = "no";
    beep_msg_level = "";
  };
  "fe-text" = {
    paste_detect_time = "0";
  };
  "irc/core" = {
    cmd_queue_speed = "0";
  };
  "irc/dcc" = {
    dcc_autoget = "no";
    dcc_autoresume = "no";
    dcc_autochat_masks = "";
  };
};
`;
}

/** True when `bin` is an executable file in a PATH directory. */
function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, bin)));
}

const defaultRegistered = /End of .*MOTD|MOTD File is missing/i;

export async function startIrssi(options: IrssiOptions): Promise<Irssi> {
  const { port, nick, host = '127.0.0.1' } = options;
  for (const bin of ['tmux', 'irssi']) {
    if (!onPath(bin)) throw new Error(`the irssi tests need ${bin}: bash scripts/install-test-deps.sh (as .ci/run does)`);
  }
  if (!/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/.test(nick)) throw new Error(`not a nick: ${nick}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'irssi-'));
  const home = path.join(dir, 'home');
  mkdirSync(home);
  writeFileSync(path.join(home, 'config'), irssiConfig(nick) + (options.sasl ? networkConfig(host, port, options.sasl) : ''), { mode: 0o600 });
  writeFileSync(path.join(dir, 'tmux.conf'), tmuxConf);
  const socket = path.join(dir, 'tmux.sock');
  // The first tmux call starts the server, whose environment the pane inherits.
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: home };
  delete env.TMUX;
  const tmux = async (...args: string[]): Promise<string> =>
    (await run('tmux', ['-u', '-S', socket, '-f', path.join(dir, 'tmux.conf'), ...args], { env, timeout: 5_000 })).stdout;

  let closed = false;
  const kill = async () => {
    if (closed) return;
    closed = true;
    await tmux('kill-server').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };

  // Given as separate arguments, tmux runs irssi directly (no shell, no quoting of paths). With
  // SASL the config's server connects by itself (autoconnect).
  const connectTo = options.sasl ? [] : ['-c', host, '-p', String(port)];
  await tmux('new-session', '-d', '-s', 'irssi', '-x', '200', '-y', '50', '--',
    'irssi', `--home=${home}`, '-n', nick, ...connectTo);

  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'irssi');
  const exited = async () => (await tmux('display-message', '-p', '-t', 'irssi', '#{pane_dead}')).trim() === '1';

  const waitForScreen = async (pattern: string | RegExp, timeoutMs = 5_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    const matches = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
    for (;;) {
      const s = await screen();
      if (matches(s)) return s;
      if (Date.now() > deadline) {
        const dead = (await exited().catch(() => true)) ? ' (irssi has exited)' : '';
        throw new Error(`irssi ${nick}: screen never showed ${String(pattern)} in ${timeoutMs} ms${dead}; it shows:\n${s.trimEnd()}`);
      }
      // capture-pane is a snapshot; there is no event for "the screen changed". Poll briskly.
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const irssi: Irssi = {
    nick,
    dir,
    async sendKeys(text) {
      // tmux reads an argument ending in ';' as the end of a command (and drops the ';') unless
      // a backslash precedes it, which it then removes.
      const literal = text.endsWith(';') ? `${text.slice(0, -1)}\\;` : text;
      await tmux('send-keys', '-t', 'irssi', '-l', '--', literal);
      await tmux('send-keys', '-t', 'irssi', 'Enter');
    },
    screen,
    waitForScreen,
    title: async () => (await tmux('display-message', '-p', '-t', 'irssi', '#{pane_title}')).replace(/\n$/, ''),
    exited,
    async close(reason = 'leaving') {
      if (closed) return;
      try {
        if (!(await exited())) {
          await irssi.sendKeys(`/quit ${reason}`);
          const deadline = Date.now() + 5_000;
          while (!(await exited())) {
            if (Date.now() > deadline) throw new Error(`irssi ${nick} did not exit after /quit; screen:\n${await screen()}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      } finally {
        await kill();
      }
    },
    kill,
  };

  try {
    await waitForScreen(options.registered ?? defaultRegistered, options.registerTimeoutMs ?? 10_000);
  } catch (e) {
    await kill();
    throw e;
  }
  return irssi;
}
