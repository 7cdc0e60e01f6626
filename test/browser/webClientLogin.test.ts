// Accounts in the web client, in Chromium against a real server (in this process, with the
// test store): an account created from the login form, a reload and a login with its password
// (SASL PLAIN), the account shown beside the nick; a wrong password sends the user back to the
// form, saying so, without ever taking the nick; a registered nick used without logging in hears
// NickServ, readably, and is renamed to a guest. A raw TCP client watches from the channel.
// Screenshots go to test-artifacts/web-client-account-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startWebServer, type WebServer } from '../../src/transports/webServer.js';
import { startIrcTestServer, type TestServer } from '../helpers.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';
import { artifacts, launchChromium, openPage as openChromiumPage } from './chromium.js';

let browser: Browser;
let server: TestServer;
let web: WebServer;
let watcher: RawIrc;

/** Nicks (so accounts) unique to this run: the test store is shared by the test process. */
const nick = `acct${process.pid % 100_000}`;
const password = 'correct horse battery';

beforeAll(async () => {
  browser = await launchChromium();
  server = await startIrcTestServer({ floodBurstLines: 1000, floodRateLinesPerSecond: 1000, nickEnforceGraceMs: 1500 });
  web = await startWebServer({ ...defaultConfig, websocket: { host: '127.0.0.1', port: 0 } }, silentLogger);
  web.attach(server.handle);
  watcher = await connectIrc(server.port);
  await watcher.register('watcher');
  watcher.send('JOIN #accounts');
  await watcher.waitForLine(/ 366 watcher #accounts /);
}, 30_000);

afterAll(async () => {
  watcher?.raw.socket.destroy();
  await browser?.close();
  await server?.stop();
  await web?.close();
});

/** Pages a test opened, closed after it whatever happened (a failed test must not leave its nick online). */
const opened: Page[] = [];
afterEach(async () => {
  for (const page of opened.splice(0)) if (!page.isClosed()) await page.close();
});

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const opening = await openChromiumPage(browser, { width: 1000, height: 640 });
  opened.push(opening.page);
  await opening.page.goto(web.url);
  return opening;
}

async function submit(page: Page, name: string, pw: string, create = false): Promise<void> {
  await page.fill('#login-nick', name);
  await page.fill('#login-channel', '#accounts');
  await page.fill('#login-password', pw);
  await page.setChecked('#login-create', create);
  await page.click('#login button[type=submit]');
}

const texts = (page: Page, key: string) => page.locator(`.log[data-key="${key}"] .msg .text`).allTextContents();
const shownText = (page: Page) => page.locator('.log:not([hidden]) .msg .text').allTextContents();

/** What the page keeps in storage and in its form: the password must be in neither. */
const kept = (page: Page) =>
  page.evaluate(() => {
    const g = globalThis as unknown as {
      localStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null };
      sessionStorage: { length: number };
      document: { getElementById(id: string): { value: string } | null };
    };
    const local: string[] = [];
    for (let i = 0; i < g.localStorage.length; i++) local.push(`${g.localStorage.key(i)}=${g.localStorage.getItem(g.localStorage.key(i)!)}`);
    return { local: local.join(';'), session: g.sessionStorage.length, field: g.document.getElementById('login-password')!.value };
  });

describe('accounts in the web client', () => {
  it('creates an account from the login form, then after a reload logs in to it with the password (SASL)', async () => {
    const { page, errors } = await openPage();
    await submit(page, nick, password, true);
    await expect.poll(() => page.locator('#me').textContent(), { timeout: 10_000 }).toBe(nick);
    await expect.poll(() => page.locator('#account').textContent()).toBe(nick);
    expect(await page.locator('#account').isVisible()).toBe(true);
    await expect.poll(() => texts(page, '#accounts')).toContain(`Account ${nick} created. Next time, enter its password to log in.`);
    await watcher.waitForLine(new RegExp(`^:${nick}!\\S+ JOIN #accounts$`));
    expect(await kept(page)).toEqual({ local: '', session: 0, field: '' });
    // NickServ answers as notices, in its own window once the user opened one.
    await page.fill('#input', '/msg NickServ INFO');
    await page.press('#input', 'Enter');
    await expect.poll(() => texts(page, 'nickserv')).toContainEqual(expect.stringMatching(new RegExp(`^Account ${nick}, registered `)));
    expect(await page.locator('.log[data-key="nickserv"] .msg .nick').first().textContent()).toBe('NickServ');
    await page.screenshot({ path: new URL('web-client-account-created.png', artifacts).pathname });

    // A reload: the form again, the account logged in with its password before the page is in.
    const quits = watcher.lines().length;
    await page.reload();
    await watcher.waitForLine(new RegExp(`^:${nick}!\\S+ QUIT `), 5_000, quits);
    expect(await page.locator('#account').isVisible()).toBe(false);
    await submit(page, nick, password);
    await expect.poll(() => page.locator('#account').textContent(), { timeout: 10_000 }).toBe(nick);
    // 900 comes before the welcome (SASL logs in before registration ends): the nick shows at 001.
    await expect.poll(() => page.locator('#me').textContent(), { timeout: 10_000 }).toBe(nick);
    await expect.poll(() => texts(page, ':server')).toContain(`You are now logged in as ${nick}`);
    watcher.send(`WHOIS ${nick}`);
    await watcher.waitForLine(new RegExp(` 330 watcher ${nick} ${nick} :is logged in as$`));
    // Logged in before the welcome: no NickServ warning, and the nick stays.
    expect((await shownText(page)).some((t) => /registered/.test(t))).toBe(false);
    expect(await kept(page)).toEqual({ local: '', session: 0, field: '' });
    await page.screenshot({ path: new URL('web-client-account-login.png', artifacts).pathname });
    expect(errors).toEqual([]);
    const closing = watcher.lines().length;
    await page.close();
    await watcher.waitForLine(new RegExp(`^:${nick}!\\S+ QUIT `), 5_000, closing);
  });

  it('sends a wrong password back to the form, saying so, without taking the nick', async () => {
    const { page, errors } = await openPage();
    const before = watcher.lines().length;
    await submit(page, nick, 'not the password');
    await expect.poll(() => page.locator('#login-error').textContent(), { timeout: 10_000 }).toBe(
      `Wrong password for ${nick} (or no account of that name).`,
    );
    expect(await page.locator('body').getAttribute('data-view')).toBe('login');
    expect(await page.locator('#login-nick').inputValue()).toBe(nick);
    expect(await kept(page)).toEqual({ local: '', session: 0, field: '' });
    // It never became a user: nobody saw it join, and the nick is free.
    watcher.send(`WHOIS ${nick}`);
    await watcher.waitForLine(new RegExp(` 401 watcher ${nick} `), 5_000, before);
    expect(watcher.lines().slice(before).some((l) => l.includes(' JOIN '))).toBe(false);
    await page.screenshot({ path: new URL('web-client-account-wrong.png', artifacts).pathname });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows NickServ telling a user without the password to log in, then the rename to a guest', async () => {
    const { page, errors } = await openPage();
    await submit(page, nick, '');
    await expect.poll(() => shownText(page), { timeout: 10_000 }).toContainEqual(expect.stringMatching(/^This nickname is registered\. Log in within 2 seconds/));
    const notice = page.locator('.log:not([hidden]) .msg[data-kind="notice"]').first();
    expect(await notice.locator('.nick').textContent()).toBe('NickServ');
    await expect.poll(() => page.locator('#me').textContent(), { timeout: 10_000 }).toMatch(/^Guest\d+$/);
    await expect.poll(() => shownText(page)).toContainEqual(expect.stringMatching(new RegExp(`^You did not log in to ${nick}: you are now Guest\\d+\\.$`)));
    expect(await page.locator('#account').isVisible()).toBe(false);
    expect(await page.locator('.log[data-key="nickserv"]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
