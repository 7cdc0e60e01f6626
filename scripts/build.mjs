// `npm run build` (so `npm start` too) and test/globalSetup.ts: tsc, then the assets
// (build-assets.mjs), into an empty dist.next/, which then takes dist/'s place by two renames.
// dist/ is never missing or half built: a client started while the server builds (`npm start`
// in one terminal, `npm run client` in another), a server already running from dist/, and a
// build interrupted by Ctrl-C all find the previous build whole. Starting from an empty
// directory means a source file moved or removed leaves nothing stale behind.
// Plain JavaScript, run by node before anything is compiled.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const next = path.join(root, 'dist.next');
const old = path.join(root, 'dist.old');
const dist = path.join(root, 'dist');

rmSync(next, { recursive: true, force: true });
rmSync(old, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', next], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [path.join(root, 'scripts', 'build-assets.mjs'), next], { cwd: root, stdio: 'inherit' });
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
