/**
 * A benchmark's options: parsed strictly, with its usage and exit 2 for anything it does not know,
 * and the usage with exit 0 for `--help`. Every benchmark's `options` include `help`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function benchArgs<const O extends Options>(options: O, usage: string):
  ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  let values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  try {
    ({ values } = parseArgs({ options }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help === true) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** Stop with the usage: an option's value is out of range. */
export function refuse(usage: string): never {
  console.error(usage);
  process.exit(2);
}

/** An option's whole number within [min, max], or stop with the usage. */
export function wholeOption(usage: string, text: string | undefined, min: number, max: number):
  number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) refuse(usage);
  return n;
}
