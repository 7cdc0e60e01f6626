// Debian's Chromium, driven by playwright-core: where it is and how it is launched on a machine
// with no network. One launcher for the browser tests (test/browser/) and for the screenshots
// `npm run docs` takes (scripts/liveViewShot.ts, scripts/webClientShot.ts).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Launches Chromium (CHROMIUM_PATH or /usr/bin/chromium), or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium is needed at ${executablePath}: bash scripts/install-test-deps.sh, or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath,
    // The flags a closed network needs: no background connections, no first-run work.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
