// What the browser tests share: the Chromium launcher (scripts/chromium.ts, which `npm run docs`
// uses too) and where screenshots go.
import { mkdirSync } from 'node:fs';

export { launchChromium } from '../../scripts/chromium.js';

export const artifacts = new URL('../../test-artifacts/', import.meta.url);
mkdirSync(artifacts, { recursive: true });
