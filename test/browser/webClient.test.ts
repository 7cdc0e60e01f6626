// The web client (--websocket) in Chromium, against the built CLI: two browser pages (one of
// them phone-sized) and an irc-framework TCP client in one channel see each other's messages,
// nick changes, joins, parts and topic; away members are greyed (from WHO, then away-notify);
// who is typing is shown, and the page's typing sent (+typing); each message keeps its msgid
// and is shown once, ours marked not sent when the server refuses it; a channel renamed from
// the page keeps its window and log (draft/channel-rename), its TCP members see it renamed;
// hostile text stays inert text; the page says why when
// the server refuses or drops it, and comes back by itself after a restart. Screenshots go to
// test-artifacts/web-client-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../irc/clients.js';
import { run, serverBin, type Running } from '../process.js';
import { artifacts, launchChromium, loginPage, openPage as openChromiumPage } from './chromium.js';

/** The little of the DOM these tests read in the page (the test files are typed without the DOM lib). */
interface Browserish {
  getComputedStyle(e: unknown): { unicodeBidi: string };
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
}

let browser: Browser;
const servers: Running[] = [];
const clients: TestClient[] = [];

interface WebRun extends Running {
  port: number;
  webPort: number;
  url: string;
}

/** The CLI with --websocket; `webPort` 0 for a free one. */
async function startChat(webPort: number, extra: string[] = []): Promise<WebRun> {
  const r = run(serverBin, [
    '--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--websocket', `127.0.0.1:${webPort}`,
    '--flood-burst', '1000', '--flood-rate', '1000', '--shutdown-grace', '2000', ...extra,
  ]);
  servers.push(r);
  const web = await r.waitForLine(/Web client at (http:\/\/127\.0\.0\.1:(\d+)\/)/, 15_000);
  const irc = await r.waitForLine(/listening on 127\.0\.0\.1:(\d+)/, 15_000);
  return Object.assign(r, { port: Number(irc[1]), webPort: Number(web[2]), url: web[1]! });
}

async function tcpClient(port: number, nick: string, caps?: string[]): Promise<TestClient> {
  const c = await connectClient({ port, nick, ...(caps ? { caps } : {}) });
  clients.push(c);
  return c;
}

/** A page for one user: errors and console errors collected, so that a test can say none came. */
const openPage = (phone = false): Promise<{ page: Page; errors: string[] }> => openChromiumPage(browser, phone ? 'phone' : 'desktop');

const login = (page: Page, url: string, nick: string, channels: string): Promise<void> => loginPage(page, url, nick, channels);

const log = (page: Page, key: string) => page.locator(`.log[data-key="${key}"]`);
/** The texts of the rows of a window, as shown. */
const texts = (page: Page, key: string) => log(page, key).locator('.msg .text').allTextContents();
const members = (page: Page) => page.locator('#member-list li').evaluateAll((lis) => lis.map((li) => li.textContent));

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await browser?.close();
  for (const s of servers) s.proc.kill('SIGKILL');
});

describe('the web client in Chromium', () => {
  let chat: WebRun;
  beforeAll(async () => {
    chat = await startChat(0);
  }, 30_000);

  it('two pages and a TCP client in one channel see each other: messages, joins, nick changes, topic, private messages, parts', async () => {
    const a = await openPage();
    const b = await openPage(true);
    await login(a.page, chat.url, 'alice', '#room');
    await expect.poll(() => members(a.page)).toEqual(['@alice']);
    const bob = await tcpClient(chat.port, 'bob');
    await bob.join('#room');
    await login(b.page, chat.url, 'carol', 'room');
    await expect.poll(() => texts(a.page, '#room')).toEqual(['You joined #room', 'bob joined #room', 'carol joined #room']);
    await expect.poll(() => members(a.page)).toEqual(['@alice', 'bob', 'carol']);
    await bob.waitFor('join', (e) => e.nick === 'carol');

    await say(a.page, 'hello from alice');
    await bob.waitFor('message', (e) => e.nick === 'alice' && e.message === 'hello from alice' && e.target === '#room');
    await expect.poll(() => texts(b.page, '#room')).toContain('hello from alice');
    bob.say('#room', 'hello from bob');
    for (const page of [a.page, b.page]) await expect.poll(() => texts(page, '#room')).toContain('hello from bob');
    // Each message carries its time (server-time) and its sender.
    const row = log(b.page, '#room').locator('.msg', { hasText: 'hello from bob' });
    expect(await row.locator('.nick').textContent()).toBe('bob');
    expect(await row.locator('time').textContent()).toMatch(/^\d\d:\d\d$/);
    expect(await row.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

    await say(b.page, '/nick carol2');
    await expect.poll(() => b.page.locator('#me').textContent()).toBe('carol2');
    await expect.poll(() => texts(a.page, '#room')).toContain('carol is now known as carol2');
    await expect.poll(() => members(a.page)).toEqual(['@alice', 'bob', 'carol2']);
    await bob.waitFor('nick', (e) => e.nick === 'carol' && e.new_nick === 'carol2');
    await bob.changeNick('bobby');
    for (const page of [a.page, b.page]) await expect.poll(() => texts(page, '#room')).toContain('bob is now known as bobby');

    // alice, first in, is the channel's operator (+t): she sets the topic, everyone sees it.
    await say(a.page, '/topic plans for friday');
    for (const page of [a.page, b.page]) await expect.poll(() => page.locator('#topic').textContent()).toBe('plans for friday');
    await expect.poll(() => texts(b.page, '#room')).toContain('alice set the topic: plans for friday');
    await bob.waitFor('topic', (e) => e.nick === 'alice' && e.topic === 'plans for friday');

    // A private message opens a window for it on the other side.
    await say(b.page, '/msg alice psst, alice');
    await expect.poll(() => texts(a.page, 'carol2')).toEqual(['psst, alice']);
    await expect.poll(() => a.page.locator('#window-list li[data-key="carol2"] .badge').textContent()).toBe('1');
    bob.say('alice', 'and one from bob');
    await expect.poll(() => texts(a.page, 'bobby')).toEqual(['and one from bob']);

    await say(b.page, '/part #room see you');
    await expect.poll(() => texts(a.page, '#room')).toContain('carol2 left #room (see you)');
    await bob.waitFor('part', (e) => e.nick === 'carol2' && e.channel === '#room');
    await expect.poll(() => b.page.locator('.log[data-key="#room"]').count()).toBe(0);
    await bob.part('#room', 'me too');
    await expect.poll(() => texts(a.page, '#room')).toContain('bobby left #room (me too)');
    await expect.poll(() => members(a.page)).toEqual(['@alice']);

    await a.page.screenshot({ path: new URL('web-client-desktop.png', artifacts).pathname });
    await b.page.screenshot({ path: new URL('web-client-phone.png', artifacts).pathname });
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.page.close();
    await b.page.close();
  });

  it('greys away members: one away before the page joined (WHO), one going away and back after (away-notify)', async () => {
    const early = await tcpClient(chat.port, 'early');
    await early.join('#afk');
    early.irc.raw('AWAY', 'gone fishing');
    await expect.poll(() => early.received().some((l) => / 306 early /.test(l))).toBe(true);
    const { page, errors } = await openPage();
    await login(page, chat.url, 'watcher', '#afk');
    const away = () => page.locator('#member-list li.away').evaluateAll((lis) => lis.map((li) => li.textContent));
    await expect.poll(away, { timeout: 5_000 }).toEqual(['@early']);
    expect(await page.locator('#member-list li.away button').getAttribute('title')).toBe('early is away. Private message to early');
    const late = await tcpClient(chat.port, 'late');
    await late.join('#afk');
    await expect.poll(() => members(page)).toEqual(['@early', 'late', 'watcher']);
    late.irc.raw('AWAY', 'lunch');
    await expect.poll(away, { timeout: 5_000 }).toEqual(['@early', 'late']);
    expect(await page.locator('#member-list li[data-nick="late"] button').getAttribute('title')).toBe('late is away: lunch. Private message to late');
    late.irc.raw('AWAY');
    await expect.poll(away, { timeout: 5_000 }).toEqual(['@early']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows who is typing (+typing over TAGMSG) and tells the others when the user types', async () => {
    const { page, errors } = await openPage();
    await login(page, chat.url, 'typist', '#keys');
    const tapper = await tcpClient(chat.port, 'tapper');
    await tapper.join('#keys');
    await expect.poll(() => members(page)).toEqual(['@typist', 'tapper']);
    tapper.irc.tagmsg('#keys', { '+typing': 'active' });
    await expect.poll(() => page.locator('#typing').textContent(), { timeout: 5_000 }).toBe('tapper is typing\u2026');
    tapper.say('#keys', 'here it is');
    await expect.poll(() => page.locator('#typing').textContent(), { timeout: 5_000 }).toBe('');
    // The page's own typing reaches tapper as a TAGMSG, and its message after.
    const typed = tapper.waitFor('tagmsg', (e) => e.nick === 'typist' && e.tags['+typing'] === 'active');
    await page.type('#input', 'hel');
    await typed;
    await page.press('#input', 'Enter');
    await tapper.waitFor('message', (e) => e.nick === 'typist' && e.message === 'hel');
    // Without news for 6 s, the indicator goes by itself.
    tapper.irc.tagmsg('#keys', { '+typing': 'active' });
    await expect.poll(() => page.locator('#typing').textContent(), { timeout: 5_000 }).toBe('tapper is typing\u2026');
    const shownAt = Date.now();
    await expect.poll(() => page.locator('#typing').textContent(), { timeout: 10_000 }).toBe('');
    expect(Date.now() - shownAt).toBeGreaterThan(4_000);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps each message\'s msgid on its row, shows a message to itself once, marks one not sent, and no error for typing to a gone nick', async () => {
    const { page, errors } = await openPage();
    await login(page, chat.url, 'ids', '#ids');
    const talker = await tcpClient(chat.port, 'talker');
    await talker.join('#ids');
    talker.say('#ids', 'first');
    await expect.poll(() => texts(page, '#ids')).toContain('first');
    await say(page, 'second');
    await expect.poll(() => texts(page, '#ids')).toEqual(['You joined #ids', 'talker joined #ids', 'first', 'second']);
    // Ours was shown at once as sending, then settled by its echo (labeled-response).
    await expect.poll(() => log(page, '#ids').locator('.msg.sending').count()).toBe(0);
    const ids = await log(page, '#ids').locator('.msg[data-kind="privmsg"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-msgid')));
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^\S+$/);
    expect(new Set(ids).size).toBe(2);

    // Our echo (echo-message) and the copy we receive are one message: shown once.
    await say(page, '/msg ids note to self');
    await say(page, '/msg ids and another');
    await expect.poll(() => texts(page, 'ids')).toContain('and another');
    expect(await texts(page, 'ids')).toEqual(['note to self', 'and another']);

    // Typing to a nick that is not there: the server's 401s to it are not shown; the message's
    // is, and the message is marked not sent, with why.
    await say(page, '/query nobody');
    await page.type('#input', 'anyone there?');
    await page.press('#input', 'Enter');
    await expect.poll(() => texts(page, 'nobody'), { timeout: 5_000 }).toContain('nobody: No such nick/channel');
    expect((await texts(page, 'nobody')).filter((t) => t.includes('No such nick'))).toHaveLength(1);
    const failed = log(page, 'nobody').locator('.msg.failed');
    expect(await failed.locator('.text').textContent()).toBe('anyone there?');
    expect(await failed.getAttribute('title')).toBe('Not sent: No such nick/channel');
    await page.screenshot({ path: new URL('web-client-not-sent.png', artifacts).pathname });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('renames the channel from the page (/rename): the window takes the new name with its log, TCP members see RENAME or PART/JOIN', async () => {
    const { page, errors } = await openPage();
    await login(page, chat.url, 'namer', '#draft');
    const capped = await tcpClient(chat.port, 'capped', ['draft/channel-rename']);
    await capped.join('#draft');
    const plain = await tcpClient(chat.port, 'plain');
    await plain.join('#draft');
    // One after the other: plain's line is on the page before the page speaks, so the log's
    // order is fixed (sent at once, the page's own echo could come back first).
    plain.say('#draft', 'before the rename');
    await expect.poll(() => texts(page, '#draft')).toContain('before the rename');
    await say(page, 'mine before');
    await expect.poll(() => texts(page, '#draft')).toContain('mine before');

    await say(page, '/rename #final <i>tidier</i>');
    // capped asked for draft/channel-rename: one RENAME line; plain sees itself leave and join.
    expect(await capped.waitForLine(/ RENAME /)).toBe(':namer!~namer@127.0.0.1 RENAME #draft #final :<i>tidier</i>');
    await plain.waitFor('part', (e) => e.channel === '#draft' && e.nick === 'plain');
    await plain.waitFor('join', (e) => e.channel === '#final' && e.nick === 'plain');
    // The page's window is the same one under the new name, still shown, with its earlier lines.
    const windows = () => page.locator('#window-list li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-key')));
    await expect.poll(windows).toEqual([':server', '#final']);
    expect(await log(page, '#draft').count()).toBe(0);
    expect(await texts(page, '#final')).toEqual([
      'You joined #draft', 'capped joined #draft', 'plain joined #draft', 'before the rename', 'mine before',
      'You renamed #draft to #final (<i>tidier</i>)',
    ]);
    expect(await page.locator('#logs i').count()).toBe(0);
    expect(await page.locator('#window-list li.current').getAttribute('data-key')).toBe('#final');
    expect(await page.locator('#window-name').textContent()).toBe('#final');
    expect(await page.locator('#input').getAttribute('placeholder')).toBe('Message #final');
    await expect.poll(() => members(page)).toEqual(['@namer', 'capped', 'plain']);
    // Talk goes on under the new name, both ways.
    await say(page, 'mine after');
    await plain.waitFor('message', (e) => e.nick === 'namer' && e.target === '#final' && e.message === 'mine after');
    capped.say('#final', 'heard you');
    await expect.poll(() => texts(page, '#final')).toContain('heard you');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows hostile text as inert text: markup, bidi overrides, control codes, and a 10 KB line that wraps on a phone', async () => {
    const a = await openPage();
    const b = await openPage(true);
    await login(a.page, chat.url, 'writer', '#hostile');
    await login(b.page, chat.url, 'phone', '#hostile');
    const mallory = await tcpClient(chat.port, 'mallory');
    await mallory.join('#hostile');

    const markup = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold?</b>';
    const bidi = 'file \u202Egpj.exe and more';
    mallory.say('#hostile', markup);
    mallory.say('#hostile', bidi);
    mallory.say('#hostile', 'tab\there \x02bold\x02 \x0304red\x03 bell\x07');
    mallory.say('#hostile', 'the line after');
    await expect.poll(() => texts(b.page, '#hostile'), { timeout: 10_000 }).toContain('the line after');
    const shown = await texts(b.page, '#hostile');
    expect(shown).toContain(markup);
    expect(shown).toContain(bidi);
    expect(shown).toContain('tab\u2409here bold red bell\u2407');
    for (const { page } of [a, b]) {
      expect(await page.locator('#logs img, #logs script, #logs b').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    }
    // The override reorders its own message only: the time and nick stay before it, in order.
    const row = log(b.page, '#hostile').locator('.msg', { hasText: 'gpj.exe' });
    expect(await row.locator('.text').evaluate((e) => [e.tagName, (globalThis as unknown as Browserish).getComputedStyle(e).unicodeBidi])).toEqual([
      'BDI',
      'isolate',
    ]);
    const [time, nick, text] = await Promise.all(['time', '.nick', '.text'].map((s) => row.locator(s).boundingBox()));
    expect(time!.x).toBeLessThan(nick!.x);
    expect(nick!.x + nick!.width).toBeLessThanOrEqual(text!.x + 1);
    const next = log(b.page, '#hostile').locator('.msg', { hasText: 'the line after' });
    expect(await next.locator('.nick').textContent()).toBe('mallory');

    // 10 KB typed in one go: the page sends it as lines that fit, everyone gets all of it.
    const long = Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    await say(a.page, long);
    await expect.poll(async () => (await texts(b.page, '#hostile')).filter((t) => /^[a-z]{50,}$/.test(t)).join(''), { timeout: 10_000 }).toBe(long);
    const pieces = mallory.eventsNamed('message').filter((e) => e.nick === 'writer').map((e) => e.message as string);
    await expect.poll(() => mallory.eventsNamed('message').filter((e) => e.nick === 'writer').map((e) => e.message).join('')).toBe(long);
    expect(pieces.every((p) => p.length <= 450)).toBe(true);
    // A 10 KB line from a TCP client is refused by the server (417); the pages see nothing of it.
    mallory.irc.raw(`PRIVMSG #hostile :${'Z'.repeat(10_000)}`);
    await mallory.waitForLine(/ 417 /);
    // Nothing is wider than the phone's screen.
    const overflow = await b.page.evaluate(() => {
      const root = (globalThis as unknown as Browserish).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBe(0);
    expect(await texts(b.page, '#hostile')).not.toContainEqual(expect.stringMatching(/ZZZZ/));
    await b.page.screenshot({ path: new URL('web-client-hostile-phone.png', artifacts).pathname });
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.page.close();
    await b.page.close();
  });

  it('says the server is full when it refuses the connection, and gets in once there is room', async () => {
    const full = await startChat(0, ['--max-connections', '1']);
    const holder = await tcpClient(full.port, 'holder');
    const { page, errors } = await openPage();
    await page.goto(full.url);
    await page.fill('#login-nick', 'latecomer');
    await page.click('#login button[type=submit]');
    await expect
      .poll(() => page.locator('#status-text').textContent(), { timeout: 10_000 })
      .toMatch(/^The server closed the connection: Closing link: \[Server is full, try again later\] Reconnecting in \d+ s\.$/);
    await page.screenshot({ path: new URL('web-client-refused.png', artifacts).pathname });
    await holder.quit('making room');
    await expect.poll(() => page.locator('#me').textContent(), { timeout: 15_000 }).toBe('latecomer');
    expect(await page.locator('#status').getAttribute('data-state')).toBe('connected');
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
    await page.close();
    full.proc.kill('SIGTERM');
  });

  it('reconnects after a server restart: says why it dropped, then takes its nick back and rejoins its channels', async () => {
    let server = await startChat(0);
    const { page } = await openPage();
    await login(page, server.url, 'stayer', '#lasting');
    await say(page, 'before the restart');
    server.proc.kill('SIGTERM');
    await expect
      .poll(() => page.locator('#status-text').textContent(), { timeout: 10_000 })
      .toMatch(/Closing link: \(~stayer@127\.0\.0\.1\) \[Server shutting down\]/);
    expect(await page.locator('#status').getAttribute('data-state')).toBe('disconnected');
    await server.exited;
    // While it is down, the page says it cannot reach it, and keeps trying.
    await expect
      .poll(() => page.locator('#status-text').textContent(), { timeout: 10_000 })
      .toMatch(/^Could not connect to the chat server: it is down, unreachable, or refused the connection\. Reconnecting in \d+ s\.$/);
    server = await startChat(server.webPort);
    await expect.poll(() => page.locator('#status').getAttribute('data-state'), { timeout: 20_000 }).toBe('connected');
    await expect.poll(() => page.locator('#me').textContent()).toBe('stayer');
    await expect.poll(() => texts(page, '#lasting')).toContain('You joined #lasting');
    const back = await tcpClient(server.port, 'back');
    await back.join('#lasting');
    back.say('#lasting', 'welcome back');
    await expect.poll(() => texts(page, '#lasting')).toContain('welcome back');
    await say(page, 'after the restart');
    await back.waitFor('message', (e) => e.nick === 'stayer' && e.message === 'after the restart');
    await expect.poll(() => texts(page, '#lasting')).toContain('after the restart');
    const shown = await texts(page, '#lasting');
    expect(shown.indexOf('before the restart')).toBeLessThan(shown.indexOf('after the restart'));
    await page.close();
  });
});
