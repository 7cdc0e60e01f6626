// Where a worker thread's script is. Worker threads run JavaScript: beside the module that
// starts them when it runs from dist/, and from dist/ when that module runs as TypeScript
// source (the tests, which build dist/ first; the same rule as the pages, pageFiles.ts).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from './packageInfo.js';

/** The built `name`.js next to the module at `moduleUrl` (its import.meta.url). */
export function builtWorkerUrl(moduleUrl: string, name: string): URL {
  const sibling = new URL(`./${name}.js`, moduleUrl);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const root = packageRoot();
  return pathToFileURL(path.join(root, 'dist', path.relative(root, path.dirname(fileURLToPath(moduleUrl))), `${name}.js`));
}
