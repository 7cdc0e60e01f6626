// Build step after tsc (scripts/build.mjs, for `npm run build` and test/globalSetup.ts): copies
// the files under src/ that are not TypeScript (Lua scripts, SQL migrations, HTML, CSS, SVG) to
// the same place under <out>/src/, and bundles each browser page's script with esbuild, from
// src/browser/<page>/main.ts to <out>/src/browser/<page>/app.js. tsc never emits src/browser
// (tsconfig.json excludes it; src/browser/tsconfig.json type-checks it). The servers serve
// those built files only (src/core/pageFiles.ts). <out> is the first argument (build.mjs gives
// an empty dist.next/ that then becomes dist/), dist/ without one.
// Plain JavaScript, run by node before anything is compiled.
import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(root, process.argv[2] ?? 'dist');
const assets = /\.(lua|sql|html|css|svg|ico)$/;
const pages = ['webClient', 'liveView'];

function copy(dir) {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) copy(rel);
    else if (assets.test(name)) cpSync(path.join(root, rel), path.join(out, rel));
  }
}

copy('src');
await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(pages.map((page) => [`${page}/app`, `src/browser/${page}/main.ts`])),
  outdir: path.join(out, 'src', 'browser'),
  bundle: true,
  // A classic script (`<script src="/app.js" defer>`): one function scope, no module loading.
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  tsconfig: 'src/browser/tsconfig.json',
  legalComments: 'none',
  logLevel: 'warning',
});
