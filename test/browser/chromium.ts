// Debian's Chromium for the browser tests, driven by playwright-core: where it is, how it is
// launched on a machine with no network, and where screenshots go.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const artifacts = new URL('../../test-artifacts/', import.meta.url);

/** Launches Chromium (CHROMIUM_PATH or /usr/bin/chromium), or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`browser tests need Chromium at ${executablePath}: bash scripts/install-test-deps.sh, or set CHROMIUM_PATH`);
  }
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath,
    // The flags a closed network needs: no background connections, no first-run work.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
