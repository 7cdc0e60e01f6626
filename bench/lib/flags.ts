// Command-line flags for the benchmarks' entry points: node:util parseArgs, strict (an unknown
// flag or a stray argument is an error, which the caller prints with its usage and exit code 2),
// and whole numbers checked against their range.

import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags' values as parseArgs types them; `unknown flag: --x` where parseArgs would say more. */
export function parseFlags<const O extends Options>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const unknown = (err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(String((err as Error).message)) : null;
    throw unknown ? new Error(`unknown flag: ${unknown[1]}`) : err;
  }
}

/** `text` as a whole number from `min` to `max`, or an error that says so. */
export function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} takes a whole number from ${min} to ${max}`);
  return n;
}
