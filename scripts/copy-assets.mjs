// Build step after tsc: copies the files under src/ that are not TypeScript (Lua scripts, HTML,
// CSS) to the same place under dist/src/, so the built package finds them next to its modules.
// Plain JavaScript, run by node before anything is compiled.
import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const assets = /\.(lua|html|css|svg|ico)$/;

function copy(dir) {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) copy(rel);
    else if (assets.test(name)) cpSync(path.join(root, rel), path.join(root, 'dist', rel));
  }
}

copy('src');
