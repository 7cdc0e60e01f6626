// The files of a browser page (the web client, the live view) for the HTTP servers that serve
// them. One rule, wherever the server module runs from: the files are always the BUILT ones,
// in dist/src/browser/<page>/ of the package this module belongs to (the nearest directory
// above this file that holds a package.json). So `node dist/src/cli/server.js` and a test
// that imports src/ under vitest (test/globalSetup.ts builds dist/ first) serve the same
// bytes: index.html and app.css copied from src/browser/<page>/, app.js bundled there by
// esbuild (scripts/build-assets.mjs). Each page is read once, by the first server that needs
// it; a file missing means the build was not run, and starting the server fails saying so.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './packageInfo.js';

/** What each page serves. */
const pages = {
  webClient: ['index.html', 'app.js', 'app.css', 'favicon.svg'],
  liveView: ['index.html', 'app.js', 'app.css'],
} as const;

export type PageName = keyof typeof pages;

export interface PageFile {
  type: string;
  body: Buffer;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where the built files of `page` are. */
export function pageDir(page: PageName): string {
  return path.join(packageRoot(), 'dist', 'src', 'browser', page);
}

const loaded = new Map<PageName, ReadonlyMap<string, PageFile>>();

/**
 * The files of `page` by the URL path they are served at: `index.html` at `/`, every other
 * one at `/<name>`. Throws when one is missing (dist/ not built).
 */
export function pageFiles(page: PageName): ReadonlyMap<string, PageFile> {
  const cached = loaded.get(page);
  if (cached) return cached;
  const dir = pageDir(page);
  const files = new Map<string, PageFile>();
  for (const name of pages[page]) {
    const file = path.join(dir, name);
    if (!existsSync(file)) throw new Error(`${file} is missing: build the pages first (npm run build)`);
    const type = types[path.extname(name)] ?? 'application/octet-stream';
    files.set(name === 'index.html' ? '/' : `/${name}`, { type, body: readFileSync(file) });
  }
  loaded.set(page, files);
  return files;
}
