/**
 * Command-line arguments for every command, with Node's `util.parseArgs` (strict: an unknown
 * option or a missing value is an error). Whatever is wrong comes back as one short line that
 * names the argument, never quoting more than a little of it: an argument may be 128 KiB.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: string[];
}

/** An argument as an error message shows it: one line, at most 60 characters. */
export function shown(arg: string): string {
  const line = arg.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line);
}

/** The parsed arguments, or one line saying what is wrong with them. */
export function parseCommandArgs(args: readonly string[], options: Options): Parsed | string {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true,
      allowPositionals: true });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    // Node's message quotes the argument whole: keep its first clause, shortened
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    const clause = message.split('. ')[0] ?? message;
    return clause.length > 120 ? `${clause.slice(0, 120)}...` : clause;
  }
}

/** A whole number in [min, max] from `--name`'s text, or a message naming the flag. */
export function intArg(name: string, text: string, min: number, max: number): number | string {
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return `bad --${name} ${shown(text)}: expected a whole number from ${min} to ${max}`;
  }
  return n;
}

/** A positive, finite number of seconds from `--name`, if given, or a message naming the flag. */
export function secondsArg(p: Parsed, name: string): number | undefined | string {
  const text = stringArg(p, name);
  if (text === undefined) return undefined;
  const n = /^\d{1,9}(\.\d{1,6})?$/.test(text) ? Number(text) : Number.NaN;
  return n > 0 && Number.isFinite(n) ? n
    : `bad --${name} ${shown(text)}: expected a number of seconds above 0`;
}

/** The string value of option `name`, if given (the last one, if given more than once). */
export function stringArg(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  if (Array.isArray(v)) return v.at(-1) as string | undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * The text of a file named on the command line, read only if it is a regular file of at most
 * `maxBytes` (a path to `/dev/zero` or a 10 GB file must not exhaust memory), or one line saying
 * why not.
 */
export function readTextArg(what: string, path: string, maxBytes: number):
  string | { refused: string } {
  try {
    const st = statSync(path);
    if (!st.isFile()) return { refused: `${what} ${shown(path)} is not a regular file` };
    if (st.size > maxBytes) {
      return { refused: `${what} ${shown(path)} has ${st.size} bytes: the limit is ${maxBytes}` };
    }
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    return { refused: `cannot read ${what} ${shown(path)}: ${code}` };
  }
}

/** Problems, one per item, as one line: the first few, and how many more. */
export function oneLine(problems: readonly string[], max = 3): string {
  const more = problems.length > max ? ` (and ${problems.length - max} more)` : '';
  return `${problems.slice(0, max).join('; ')}${more}`.replace(/[\n\r]+/g, ' ');
}
