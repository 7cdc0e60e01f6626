// Builds dist/ once before the suite, so process tests run the same JavaScript `npm start` runs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // SKIP_BUILD=1 for quick loops over tests that do not start the CLI.
  if (process.env.SKIP_BUILD) return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
