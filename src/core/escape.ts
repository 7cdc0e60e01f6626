// Makes client-supplied text safe to print on an operator's terminal or a log viewer.
// A reply can carry ESC sequences (recolour, retitle, move the cursor, hide text), C1 controls
// (U+009B is a one-character CSI on some terminals), bare CR (overwrites a log line), or
// Unicode bidi overrides that reorder what the operator reads. All of them are shown as visible
// escapes instead. Backslash itself is left alone so that escaping is idempotent: escaping an
// already escaped string changes nothing.

const UNSAFE =
  // C0 controls, DEL and C1 controls; line/paragraph separators; bidi marks, embeddings,
  // overrides and isolates; zero-width no-break space (BOM) in the middle of text.
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, '0');
}

function escapeOne(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
}

/** Returns `text` with every control or reordering character replaced by a visible escape. */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}
