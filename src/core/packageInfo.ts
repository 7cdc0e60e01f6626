// The package this code belongs to: its root (the nearest directory above this module with a
// package.json, whether the module runs from src/ under vitest or from dist/) and the version
// the servers announce (IRC's 002 and 004), read from that package.json so it never drifts.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('no package.json above src/core/packageInfo');
    dir = parent;
  }
  return dir;
}

let version: string | null = null;

/** `<name>-<version>` of the package, e.g. `xstate-tcp-chat-0.1.0`; read once. */
export function packageVersion(): string {
  if (version === null) {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
    version = `${pkg.name}-${pkg.version}`;
  }
  return version;
}
