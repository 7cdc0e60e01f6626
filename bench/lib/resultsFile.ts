// Where the benchmarks keep their results: JSON under docs/, written after a run and read back to
// rebuild a report without measuring. A file of another version is refused, not half read.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/lib/). */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Results of `version` from `file`; an error names the file when it holds another version. */
export function readResults<T extends { version: number }>(file: string, version: number): T {
  let results: T;
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (results.version !== version) throw new Error(`${file}: results version ${results.version}, expected ${version}`);
  return results;
}

/** Indented by one space, as the committed files are. */
export function writeResults(file: string, results: unknown): void {
  writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
}
