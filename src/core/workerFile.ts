// Where a worker thread's script is. Worker threads run JavaScript: beside the module that
// starts them when it runs from dist/, and from dist/ when that module runs as TypeScript
// source (the tests, which build dist/ first; the same rule as the pages, pageFiles.ts).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The built `name`.js next to the module at `moduleUrl` (its import.meta.url). */
export function builtWorkerUrl(moduleUrl: string, name: string): URL {
  const sibling = new URL(`./${name}.js`, moduleUrl);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  let dir = path.dirname(fileURLToPath(moduleUrl));
  const parts: string[] = [];
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    parts.unshift(path.basename(dir));
    dir = parent;
  }
  return pathToFileURL(path.join(dir, 'dist', ...parts, `${name}.js`));
}
