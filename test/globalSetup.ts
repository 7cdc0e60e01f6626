// Builds dist/ once before the suite, exactly as `npm run build` does: process tests run the
// same JavaScript `npm start` runs, and the web client and the live view are served from their
// built files (src/core/pageFiles.ts) even when a test imports the server from src/.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // SKIP_BUILD=1 for quick loops over tests that do not need a fresh dist/.
  if (process.env.SKIP_BUILD) return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  // The build `npm run build` runs: from an empty directory, swapped in for dist/ when complete.
  execFileSync(process.execPath, [`${root}scripts/build.mjs`], { cwd: root, stdio: 'inherit' });
}
