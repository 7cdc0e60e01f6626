// Takes docs/web-client.png and docs/web-client-phone.png, the README's pictures of the web
// client, the way users get it: the built CLI with --websocket, two people in Chromium (one on a
// desktop, one on a phone-sized screen) and one on a plain IRC connection, chatting in one
// channel.
//
//   node dist/scripts/webClientShot.js   (`npm run docs` runs it after liveViewShot.js)

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { spawnServer, startupOf } from './serverCli.js';
import { projectRoot } from './statechart.js';

const DESKTOP_IMAGE = 'docs/web-client.png';
const PHONE_IMAGE = 'docs/web-client-phone.png';

/** A plain IRC client on a socket: sends lines, waits for one that matches. */
function ircClient(port: number): { send(...lines: string[]): void; waitFor(pattern: RegExp): Promise<void>; close(): void } {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const waiters = new Set<() => void>();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
    for (const w of [...waiters]) w();
  });
  return {
    send: (...lines) => void socket.write(lines.map((l) => `${l}\r\n`).join('')),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}`)), 10_000);
        const check = () => {
          if (!received.split('\r\n').some((l) => pattern.test(l))) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: () => void socket.destroy(),
  };
}

async function login(page: Page, url: string, nick: string, channel: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login-nick', nick);
  await page.fill('#login-channel', channel);
  await page.click('#login button[type=submit]');
  await page.locator('#me', { hasText: nick }).waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await page.locator('.log:not([hidden]) .msg .text', { hasText: text.replace(/^\/\w+ /, '') }).last().waitFor();
}

async function main(): Promise<void> {
  const root = projectRoot();
  // A store of its own: the chat kept from an earlier run would come back as history.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'web-client-shot-'));
  const args = ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--websocket', '127.0.0.1:0', '--network', 'Example', '--data-dir', dataDir];
  const { server, exited } = spawnServer(args);
  let browser: Browser | undefined;
  let irc: ReturnType<typeof ircClient> | undefined;
  try {
    const { port, url } = await startupOf(server, { port: /listening on 127\.0\.0\.1:(\d+)/, url: /Web client at (http:\/\/\S+)/ });

    browser = await launchChromium();
    const desktop = await browser.newPage({ viewport: { width: 1100, height: 620 } });
    const phone = await browser.newPage({ viewport: { width: 390, height: 700 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await login(desktop, url, 'ada', '#lobby');
    irc = ircClient(Number(port));
    irc.send('NICK linus', 'USER linus 0 * :Linus on irssi', 'JOIN #lobby');
    await irc.waitFor(/ 366 linus #lobby /);
    await login(phone, url, 'grace', '#lobby');
    await say(desktop, '/topic Chat from a browser: IRC over WebSocket, served by the chat server itself');
    await say(phone, 'hi all, this is from my phone');
    irc.send('PRIVMSG #lobby :welcome! I am on irssi, same channel, same server');
    await desktop.locator('.msg .text', { hasText: 'I am on irssi' }).waitFor();
    await say(desktop, 'and I am in a browser tab: no plugin, no CDN, nothing to install');
    await say(phone, '/me waves');
    irc.send('PRIVMSG ada :psst: the members list takes you to a private chat');
    await desktop.locator('#window-list li[data-key="linus"] .badge', { hasText: '1' }).waitFor();
    await phone.locator('.msg .text', { hasText: 'nothing to install' }).waitFor();
    await desktop.screenshot({ path: path.join(root, DESKTOP_IMAGE) });
    await phone.screenshot({ path: path.join(root, PHONE_IMAGE) });
  } finally {
    await browser?.close();
    irc?.close();
    server.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`wrote ${DESKTOP_IMAGE}\nwrote ${PHONE_IMAGE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`webClientShot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
