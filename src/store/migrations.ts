// Schema migrations, as SQL files: src/store/sql/<kind>/<NNN>-<what>.sql, applied in version
// order at start, each once, each in its own transaction, and recorded in the database's
// `schema_migrations` table. A database newer than this server (a version it has no file for)
// is refused rather than guessed at. The files are copied next to the built module
// (scripts/build-assets.mjs), so this reads them from wherever it runs.

import { readdirSync, readFileSync } from 'node:fs';
import { ChatError } from '../core/errors.js';

export interface Migration {
  version: number;
  /** The file name without its version and extension (`identity`). */
  name: string;
  sql: string;
}

const fileName = /^(\d{3})-([a-z0-9-]+)\.sql$/;

/** Every migration of one kind of store, oldest first. */
export function migrationsFor(kind: 'sqlite' | 'postgres'): Migration[] {
  const dir = new URL(`./sql/${kind}/`, import.meta.url);
  const found: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = fileName.exec(file);
    if (!m) continue;
    found.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(new URL(file, dir), 'utf8') });
  }
  found.sort((a, b) => a.version - b.version);
  found.forEach((m, i) => {
    // Versions are 1, 2, 3...: a gap or a repeat is a mistake in this repository, not the database.
    if (m.version !== i + 1) throw new Error(`store migrations for ${kind}: expected version ${i + 1}, found ${m.version}-${m.name}`);
  });
  return found;
}

/** The migrations still to apply to a database at `applied` (its highest recorded version). */
export function pendingMigrations(all: readonly Migration[], applied: number, where: string): Migration[] {
  const latest = all.length;
  if (applied > latest) {
    throw new ChatError(
      'STORE_UNAVAILABLE',
      `${where} is at schema version ${applied}, newer than this server knows (${latest}): run a newer server`,
    );
  }
  return all.slice(applied);
}
