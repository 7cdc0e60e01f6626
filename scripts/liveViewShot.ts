// Takes docs/live-view.png, the README's picture of the live view, the way a user gets it: the
// built CLI with --inspect, one plain TCP client that reads the greeting and stays silent, the
// page in Chromium with that client's row clicked. docs/live-view.json beside it records the
// machines it was taken with (liveViewFingerprint), so test/statechart.test.ts fails once they
// change, instead of the picture quietly showing edges the machines no longer have.
//
//   node dist/scripts/liveViewShot.js   (`npm run docs` runs it after statechart.js)

import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { spawnServer, startupOf } from './serverCli.js';
import { LIVE_VIEW_SIDECAR, liveViewFingerprint, projectRoot } from './statechart.js';

const LIVE_VIEW_IMAGE = 'docs/live-view.png';

async function main(): Promise<void> {
  const root = projectRoot();
  // The reply timeout outlasts the shot: the client is still waiting for its reply in the picture.
  const args = ['--host', '127.0.0.1', '--port', '0', '--inspect', '127.0.0.1:0', '--reply-timeout', '120000'];
  const { server, exited } = spawnServer(args);
  let client: net.Socket | undefined;
  let browser: Browser | undefined;
  try {
    // The chat port and the live view's address.
    const { port, url } = await startupOf(server, {
      port: /listening on 127\.0\.0\.1:(\d+)/,
      url: /Inspector: live statecharts at (http:\/\/\S+)/,
    });
    client = net.connect(Number(port), '127.0.0.1');
    await once(client, 'data'); // the greeting; the client never answers it
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(url);
    await page.waitForSelector('#status[data-connected="true"]');
    await page.waitForSelector('#diagram-connection svg .state');
    const row = page.locator('#live-table tbody tr', { has: page.locator('td.state', { hasText: 'awaitingReply' }) });
    await row.click();
    // The detail is fetched on its own after the click: wait until it has caught up too.
    await page.locator('#detail-table tbody td', { hasText: 'awaitingReply' }).first().waitFor();
    await page.screenshot({ path: path.join(root, LIVE_VIEW_IMAGE), fullPage: true });
  } finally {
    await browser?.close();
    client?.destroy();
    server.kill('SIGTERM');
    await exited;
  }
  const sidecar = {
    about: `The machines ${LIVE_VIEW_IMAGE} was taken with: SHA-256 of their Mermaid charts (scripts/statechart.ts liveViewFingerprint). Written by npm run docs.`,
    machines: liveViewFingerprint(),
  };
  writeFileSync(path.join(root, LIVE_VIEW_SIDECAR), `${JSON.stringify(sidecar, null, 2)}\n`);
  process.stdout.write(`wrote ${LIVE_VIEW_IMAGE}\nwrote ${LIVE_VIEW_SIDECAR}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`liveViewShot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
