// What the browser tests share: the Chromium launcher (scripts/chromium.ts, which `npm run docs`
// uses too), where screenshots go, a page that collects its errors, and logging in to the web client.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';

export { launchChromium } from '../../scripts/chromium.js';

export const artifacts = new URL('../../test-artifacts/', import.meta.url);
mkdirSync(artifacts, { recursive: true });

/**
 * A new page of `browser` with its page errors and console errors collected, so that a test can
 * say none came; phone-sized (touch, 390 px wide) when asked.
 */
export async function openPage(browser: Browser, size: 'desktop' | 'phone' | { width: number; height: number } = 'desktop'): Promise<{ page: Page; errors: string[] }> {
  const page =
    size === 'phone'
      ? await browser.newPage({ viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
      : await browser.newPage({ viewport: size === 'desktop' ? { width: 1200, height: 720 } : size });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return { page, errors };
}

/**
 * The web client at `url` logged in as `nick` to `channels` (with `password`, to that account;
 * `create`: creating it); resolves once the page shows it is `nick`.
 */
export async function loginPage(page: Page, url: string, nick: string, channels: string, password = '', create = false): Promise<void> {
  await page.goto(url);
  await page.fill('#login-nick', nick);
  await page.fill('#login-channel', channels);
  if (password) {
    await page.fill('#login-password', password);
    await page.setChecked('#login-create', create);
  }
  await page.click('#login button[type=submit]');
  await expect.poll(() => page.locator('#me').textContent(), { timeout: 10_000 }).toBe(nick);
}
