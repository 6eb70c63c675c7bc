/**
 * JSON from untrusted bytes, bounded before anything walks it [STYLE §9]. `JSON.parse`, io-ts and
 * every error reporter recurse over the value; a 60 KB datagram of nested `[` is 60,000 levels
 * deep, enough to overflow the stack in a reporter that prints the value. So the text is scanned
 * once, without recursion, and refused when it nests deeper or holds more members in one array or
 * object than its surface allows. Only then is it parsed.
 *
 * Every surface that reads JSON it did not write itself (datagrams, snapshot payloads, WAL
 * records, scenario and layout files) goes through `parseBoundedJson` with its own limits.
 */
import * as E from 'fp-ts/lib/Either.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 (never a replacement character): the text, or undefined if the bytes are not. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export interface JsonLimits {
  /** The most UTF-16 code units of text; the caller has usually bounded the bytes already. */
  readonly maxChars: number;
  /** The deepest nesting of arrays and objects: `[]` is depth 1, `[[]]` depth 2. */
  readonly maxDepth: number;
  /** The most elements in one array, or keys in one object. */
  readonly maxMembers: number;
}

/** Why a text was refused: too deep or wide (`shape`), or not JSON (`syntax`). */
export interface JsonRefusal {
  readonly kind: 'too-large' | 'shape' | 'syntax';
  /** One line, never quoting more than a few characters of the input. */
  readonly detail: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * The first way `text` exceeds `limits`, or undefined. A linear scan that tracks strings (so a
 * bracket inside one is not counted) and, per open container, its member count. It does not
 * validate JSON: `JSON.parse` does that afterwards, on text known to be shallow and narrow.
 */
export function checkJsonShape(text: string, limits: JsonLimits): JsonRefusal | undefined {
  if (text.length > limits.maxChars) {
    return { kind: 'too-large', detail: `${text.length} characters > ${limits.maxChars}` };
  }
  // commas[d]: commas seen at depth d in the container open there; its members are one more
  const commas = new Uint32Array(limits.maxDepth + 1);
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // jump to the next quote: most of a datagram is string content
      const q = text.indexOf('"', i);
      if (q < 0) break; // an unterminated string: JSON.parse refuses it
      if (!escaped(text, q)) inString = false;
      i = q;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      depth++;
      if (depth > limits.maxDepth) {
        return { kind: 'shape', detail: `nested deeper than ${limits.maxDepth} levels` };
      }
      commas[depth] = 0;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth === 0) return { kind: 'syntax', detail: `unbalanced bracket at offset ${i}` };
      depth--;
    } else if (c === COMMA && depth > 0) {
      const n = (commas[depth] ?? 0) + 1;
      commas[depth] = n;
      if (n >= limits.maxMembers) {
        const detail = `more than ${limits.maxMembers} members in one array or object`;
        return { kind: 'shape', detail };
      }
    }
  }
  return undefined;
}

/** Whether the quote at `q` is escaped: an odd number of backslashes stands before it. */
function escaped(text: string, q: number): boolean {
  let k = q - 1;
  while (k >= 0 && text.charCodeAt(k) === BACKSLASH) k--;
  return (q - 1 - k) % 2 === 1;
}

/** Escape control characters so a parser's message stays on one line in a log. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The value of `text` if it is JSON within `limits`; never throws, whatever the text. */
export function parseBoundedJson(text: string, limits: JsonLimits): E.Either<JsonRefusal, unknown> {
  const refused = checkJsonShape(text, limits);
  if (refused !== undefined) return E.left(refused);
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (e) {
    // V8's message quotes a little of the input: cut it short and keep it on one line.
    const reason = (e instanceof Error ? e.message : String(e)).slice(0, 120);
    return E.left({ kind: 'syntax', detail: `not JSON: ${oneLine(reason)}` });
  }
}
