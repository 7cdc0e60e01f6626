// Build step after tsc (`npm run build`, and test/globalSetup.ts before the tests): copies the
// files under src/ that are not TypeScript (Lua scripts, SQL migrations, HTML, CSS, SVG) to the same place
// under dist/src/, and bundles each browser page's script with esbuild, from
// src/browser/<page>/main.ts to dist/src/browser/<page>/app.js. tsc never emits src/browser
// (tsconfig.json excludes it; src/browser/tsconfig.json type-checks it). The servers serve
// those built files only (src/core/pageFiles.ts). Its callers (`npm run build`'s prebuild,
// test/globalSetup.ts) start from an empty dist/, so nothing of an earlier build is left over.
// Plain JavaScript, run by node before anything is compiled.
import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const assets = /\.(lua|sql|html|css|svg|ico)$/;
const pages = ['webClient', 'liveView'];

function copy(dir) {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) copy(rel);
    else if (assets.test(name)) cpSync(path.join(root, rel), path.join(root, 'dist', rel));
  }
}

copy('src');
await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(pages.map((page) => [`${page}/app`, `src/browser/${page}/main.ts`])),
  outdir: 'dist/src/browser',
  bundle: true,
  // A classic script (`<script src="/app.js" defer>`): one function scope, no module loading.
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  tsconfig: 'src/browser/tsconfig.json',
  legalComments: 'none',
  logLevel: 'warning',
});
