// The live view of the chat server in Chromium: `--protocol irc --inspect` shows the IRC session
// machine with live counts per state, and the chat counters (users, channels, messages per
// second), and nothing a user wrote. A screenshot goes to test-artifacts/live-view-irc.png.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIrc } from '../irc/raw.js';
import { runServer, type Running } from '../process.js';
import { artifacts, launchChromium } from './chromium.js';

let browser: Browser;
let server: Running & { port: number };
let url: string;

beforeAll(async () => {
  server = await runServer(['--protocol', 'irc', '--inspect', '127.0.0.1:0', '--flood-burst', '100', '--flood-rate', '100']);
  url = (await server.waitForLine(/Inspector: live statecharts at (http:\/\/\S+)/))[1]!;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.proc.kill('SIGKILL');
});

describe('live view of the IRC server in Chromium', () => {
  it('draws the IRC session machine, counts sessions per state, and shows users, channels and messages per second', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('#status[data-connected="true"]');
    await page.waitForSelector('#diagram-connection svg .state');
    await expect.poll(() => page.locator('#session-title').textContent()).toBe('IRC session machine');
    // Every state of the session machine is in the drawing.
    const drawn = await page.locator('#diagram-connection .state').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state')));
    expect(drawn).toEqual(
      expect.arrayContaining(['open.registering.waiting', 'open.registering.negotiating', 'open.registered.active', 'open.registered.pinged', 'quitting', 'closed']),
    );

    const talker = await connectIrc(server.port);
    const listener = await connectIrc(server.port);
    const waiting = await connectIrc(server.port); // connected, never registers
    await talker.register('talker');
    await listener.register('listener');
    // One after the other: sent together, a loaded server may take the listener's first, and the
    // talker (not yet in the channel) would never see it join.
    talker.send('JOIN #live');
    await talker.waitForLine(/ 366 talker #live /);
    listener.send('JOIN #live');
    await talker.waitForLine(/^:listener!\S+ JOIN #live$/);
    await waiting.waitForLine(/NOTICE/);

    await expect.poll(() => page.locator('#diagram-connection [data-count-for="open.registered.active"]').textContent()).toBe('2');
    await expect.poll(() => page.locator('#diagram-connection [data-count-for="open.registering.waiting"]').textContent()).toBe('1');
    // The chat totals are sampled once a second: a loaded machine can take two samples to show them.
    await expect.poll(() => page.locator('#c-users').textContent(), { timeout: 5_000 }).toBe('2');
    await expect.poll(() => page.locator('#c-channels').textContent(), { timeout: 5_000 }).toBe('1');

    // A steady stream of messages shows as a rate; their text appears nowhere on the page.
    const stop = Date.now() + 2_500;
    let n = 0;
    while (Date.now() < stop) {
      talker.send(`PRIVMSG #live :body-never-shown-${n++}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await expect.poll(async () => Number(await page.locator('#c-mps').textContent()), { timeout: 5_000 }).toBeGreaterThan(5);
    await page.screenshot({ path: new URL('live-view-irc.png', artifacts).pathname, fullPage: true });
    expect(await page.content()).not.toContain('body-never-shown');

    for (const c of [talker, listener, waiting]) c.raw.socket.destroy();
    await expect.poll(() => page.locator('#c-live').textContent(), { timeout: 5_000 }).toBe('0');
    expect(errors).toEqual([]);
    await page.close();
  });
});
