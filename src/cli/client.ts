#!/usr/bin/env node
// The companion client command: prints the greeting, sends --message (or one line typed on
// stdin), prints what the server says until it closes. Server text is escaped before it
// reaches the terminal, as the server does with client text. Exit 0 when the server closed the
// connection, 1 when it could not be reached, 2 for bad flags.

import { createInterface } from 'node:readline';
import { talk } from '../greeting/client.js';
import { ChatError } from '../core/errors.js';
import { escapeText } from '../core/escape.js';
import { clientUsage, parseClientArgs } from './args.js';

/**
 * Reads one line from stdin (`line`: null if stdin ends first). `stop` lets stdin go: the server
 * may close first (a reply timeout, a shutdown) while the user has typed nothing, and an open
 * stdin would keep the client running until they press Enter.
 */
function readLine(): { line: Promise<string | null>; stop(): void } {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const line = new Promise<string | null>((resolve) => {
    let answered = false;
    rl.once('line', (text) => {
      answered = true;
      rl.close();
      resolve(text);
    });
    rl.once('close', () => {
      if (!answered) resolve(null);
      process.stdin.pause();
    });
  });
  return {
    line,
    stop() {
      rl.close();
      process.stdin.destroy();
    },
  };
}

/** Prints server text line by line, escaped; holds a partial line until its end arrives. */
function linePrinter(): { write(text: string): void; flush(): void } {
  let pending = '';
  return {
    write(text) {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${escapeText(line.replace(/\r$/, ''))}\n`);
    },
    flush() {
      if (pending) process.stdout.write(`${escapeText(pending)}\n`);
      pending = '';
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseClientArgs(argv);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    process.stderr.write(`xstate-tcp-chat-client: ${err.message}\n\n${clientUsage()}\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${clientUsage()}\n`);
    return 0;
  }
  const { host, port, message, timeoutMs } = parsed.options;
  const printer = linePrinter();
  let stopTyping = (): void => {};
  const ask = (): Promise<string | null> => {
    if (message !== null) return Promise.resolve(message);
    const read = readLine();
    stopTyping = read.stop;
    return read.line;
  };
  try {
    await talk({ host, port, timeoutMs, message: ask, onText: (text) => printer.write(text) });
    printer.flush();
    return 0;
  } catch (err) {
    printer.flush();
    if (!(err instanceof ChatError)) throw err;
    process.stderr.write(`xstate-tcp-chat-client: ${err.message}\n`);
    return 1;
  } finally {
    // The server has closed: nothing typed from now on would go anywhere.
    stopTyping();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
