// The web client and the server's history (issue 20), in Chromium against the built CLI with
// its SQLite store: a channel joined shows what was said before (the last 50), scrolling to the
// top brings older lines; two pages logged in to one account agree on what is read (reading in
// one clears the other's unread count); after the server restarts the page fills in what was
// said while it was away; a logged-in page lists its private conversations (TARGETS); a deleted
// message (REDACT) shows as deleted, and /delete deletes the page's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../irc/clients.js';
import { run, serverBin, type Running } from '../process.js';
import { launchChromium, loginPage, openPage as openChromiumPage } from './chromium.js';

let browser: Browser;
const servers: Running[] = [];
const clients: TestClient[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'web-history-'));

interface WebRun extends Running {
  port: number;
  url: string;
}

/** The CLI with --websocket and its store in this file's directory (kept across a restart). */
async function startChat(webPort = 0): Promise<WebRun> {
  const r = run(serverBin, [
    '--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--websocket', `127.0.0.1:${webPort}`, '--data-dir', dir,
    '--flood-burst', '1000', '--flood-rate', '1000', '--shutdown-grace', '1000',
  ]);
  servers.push(r);
  const web = await r.waitForLine(/Web client at (http:\/\/127\.0\.0\.1:(\d+)\/)/, 15_000);
  const irc = await r.waitForLine(/listening on 127\.0\.0\.1:(\d+)/, 15_000);
  return Object.assign(r, { port: Number(irc[1]), url: web[1]! });
}

async function tcpClient(port: number, nick: string): Promise<TestClient> {
  const c = await connectClient({ port, nick });
  clients.push(c);
  return c;
}

const openPage = (): Promise<{ page: Page; errors: string[] }> => openChromiumPage(browser);

const login = loginPage;

const log = (page: Page, key: string) => page.locator(`.log[data-key="${key}"]`);
const texts = (page: Page, key: string) => log(page, key).locator('.msg .text').allTextContents();
const said = async (page: Page, key: string): Promise<string[]> => (await texts(page, key)).filter((t) => /^(old|new|gap|dm) /.test(t));
const badge = (page: Page, key: string) => page.locator(`#window-list li[data-key="${key}"] .badge`);

/** `count` lines `prefix 1..count` from a TCP client into `target`; resolves once the server has run them. */
async function talk(c: TestClient, target: string, prefix: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) c.say(target, `${prefix} ${i}`);
  await ping(c);
}

/** A PING answered: the server has run everything the client sent before it. */
async function ping(c: TestClient): Promise<void> {
  const token = `t${Math.random().toString(36).slice(2)}`;
  c.irc.raw('PING', token);
  await c.waitForLine(new RegExp(`PONG .*${token}`));
}

beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await browser?.close();
  for (const s of servers) s.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the web client and the history', () => {
  let chat: WebRun;
  beforeAll(async () => {
    chat = await startChat();
  }, 30_000);

  it('shows a channel\'s last 50 lines on joining, and older ones when scrolled to the top', async () => {
    const bob = await tcpClient(chat.port, 'histbob');
    await bob.join('#hist');
    await talk(bob, '#hist', 'old', 70);
    const { page, errors } = await openPage();
    await login(page, chat.url, 'histreader', '#hist');
    await expect.poll(() => said(page, '#hist'), { timeout: 10_000 }).toEqual(Array.from({ length: 50 }, (_, i) => `old ${i + 21}`));
    // Live lines come after the history.
    bob.say('#hist', 'new 1');
    await expect.poll(async () => (await said(page, '#hist')).at(-1)).toBe('new 1');
    // Scrolled to the top: the 20 older ones, above, in order.
    await log(page, '#hist').evaluate((e: { scrollTop: number }) => void (e.scrollTop = 0));
    await expect.poll(() => said(page, '#hist'), { timeout: 10_000 }).toEqual([...Array.from({ length: 70 }, (_, i) => `old ${i + 1}`), 'new 1']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps two pages of one account on one read position: reading in one clears the other\'s unread count', async () => {
    const first = await openPage();
    await login(first.page, chat.url, 'reada', '#shared,#side', 'opensesame42', true);
    const second = await openPage();
    await login(second.page, chat.url, 'reada', '#shared,#side', 'opensesame42');
    // Both pages look at #side while carl talks in #shared: two unread there, on each page.
    for (const p of [first.page, second.page]) await p.locator('#window-list li[data-key="#side"] button.window').click();
    const carl = await tcpClient(chat.port, 'readcarl');
    await carl.join('#shared');
    carl.say('#shared', 'new a');
    carl.say('#shared', 'new b');
    await ping(carl);
    for (const p of [first.page, second.page]) await expect.poll(() => badge(p, '#shared').textContent(), { timeout: 10_000 }).toBe('2');
    // The first page shows #shared: read there, and so on the second page too.
    await first.page.locator('#window-list li[data-key="#shared"] button.window').click();
    await expect.poll(() => said(first.page, '#shared')).toEqual(['new a', 'new b']);
    await expect.poll(() => badge(second.page, '#shared').textContent(), { timeout: 10_000 }).toBe('');
    expect(await said(second.page, '#shared')).toEqual(['new a', 'new b']);
    // With every page gone, carl says more; a new page of the account shows the history with the
    // "new messages" line after what was read.
    await first.page.close();
    await second.page.close();
    carl.say('#shared', 'new c');
    await ping(carl);
    const third = await openPage();
    await login(third.page, chat.url, 'reada', '#shared', 'opensesame42');
    await expect.poll(() => said(third.page, '#shared'), { timeout: 10_000 }).toEqual(['new a', 'new b', 'new c']);
    const order = await log(third.page, '#shared').locator(':scope > div').evaluateAll((rows) =>
      rows.map((r) => ((r as { className: string }).className === 'unread-line' ? '|' : ((r as { textContent: string | null }).textContent ?? '').replace(/^.*(new [abc])$/, '$1'))),
    );
    expect(order.filter((t) => t === '|' || /^new [abc]$/.test(t))).toEqual(['new a', 'new b', '|', 'new c']);
    await third.page.close();
    expect([...first.errors, ...second.errors, ...third.errors]).toEqual([]);
  });

  it('fills in after a server restart what was said while it was away, and lists private conversations', async () => {
    const { page, errors } = await openPage();
    await login(page, chat.url, 'gapper', '#gap', 'opensesame42', true);
    const dora = await tcpClient(chat.port, 'dora');
    await dora.join('#gap');
    dora.say('#gap', 'gap 1');
    await expect.poll(() => said(page, '#gap'), { timeout: 10_000 }).toEqual(['gap 1']);

    // The server restarts on the same ports and store; meanwhile dora (on the new server) talks.
    const webPort = Number(new URL(chat.url).port);
    chat.proc.kill('SIGTERM');
    await chat.exited;
    chat = await startChat(webPort);
    const dora2 = await tcpClient(chat.port, 'dora');
    await dora2.join('#gap');
    dora2.say('#gap', 'gap 2');
    dora2.say('#gap', 'gap 3');
    await ping(dora2);
    // The page comes back by itself (not logged in: its password is not kept) and fills the gap.
    await expect.poll(() => said(page, '#gap'), { timeout: 40_000 }).toEqual(['gap 1', 'gap 2', 'gap 3']);
    expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
    await page.close();

    // A private conversation between two accounts, found by TARGETS on a new page.
    const { page: online } = await openPage();
    await login(online, chat.url, 'gapper', '', 'opensesame42');
    const { page: other } = await openPage();
    await login(other, chat.url, 'dmfriend', '', 'opensesame42', true);
    await other.fill('#input', '/msg gapper dm hello');
    await other.press('#input', 'Enter');
    await expect.poll(() => said(online, 'dmfriend'), { timeout: 10_000 }).toEqual(['dm hello']);
    await other.close();
    await online.close();
    const { page: back } = await openPage();
    await login(back, chat.url, 'gapper', '', 'opensesame42');
    await expect.poll(() => back.locator('#window-list li[data-key="dmfriend"]').count(), { timeout: 10_000 }).toBe(1);
    await back.locator('#window-list li[data-key="dmfriend"] button.window').click();
    await expect.poll(() => said(back, 'dmfriend'), { timeout: 10_000 }).toEqual(['dm hello']);
    await back.close();
  }, 90_000);

  it('shows a message deleted elsewhere as deleted, and deletes its own with /delete for everyone', async () => {
    const bob = await connectClient({ port: chat.port, nick: 'delbob', caps: ['draft/message-redaction', 'message-tags', 'echo-message'] });
    clients.push(bob);
    await bob.join('#del');
    const { page, errors } = await openPage();
    await login(page, chat.url, 'delreader', '#del');
    await expect.poll(() => texts(page, '#del')).toContain('You joined #del');
    // bob deletes what he said: the page shows the line as deleted, with the reason.
    bob.say('#del', 'del oops');
    // Its echo (echo-message) carries the msgid everyone saw.
    const echo = await bob.waitFor('message', (e) => e.message === 'del oops');
    const msgid = (echo.tags as Record<string, string>).msgid!;
    await expect.poll(() => texts(page, '#del')).toContain('del oops');
    bob.irc.raw('REDACT', '#del', msgid, 'typo');
    await expect.poll(() => texts(page, '#del')).toContain('(message deleted: typo)');
    expect(await texts(page, '#del')).not.toContain('del oops');
    // The page deletes its own latest line: bob is told, and the page shows it deleted too.
    await page.fill('#input', 'del mine');
    await page.press('#input', 'Enter');
    await bob.waitForLine(/PRIVMSG #del :del mine$/);
    await page.fill('#input', '/delete');
    await page.press('#input', 'Enter');
    await bob.waitForLine(/:delreader!\S+ REDACT #del \S+$/);
    await expect.poll(() => texts(page, '#del')).toContain('(message deleted)');
    expect(errors).toEqual([]);
    await page.close();
  });
});
