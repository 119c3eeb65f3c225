// Data is hostile: an etcd key, a log excerpt or a file name is text anyone with write access chose.
// Every string from the data passes safeText() on its way to stdout/stderr, so that a key such as
// "\x1b]52;c;…\x07" (OSC 52: write the operator's clipboard) or "\x1b[2J" (clear the screen) is shown,
// not obeyed. What is escaped:
//   - C0 controls U+0000–U+001F and DEL U+007F: \r \n \t, else \xNN (ESC → \x1b, BEL → \x07);
//   - C1 controls U+0080–U+009F (CSI U+009B acts like ESC [ on many terminals): \u009b;
//   - bidi and line controls that reorder or break what a reader sees: U+061C, U+200E, U+200F,
//     U+2028–U+202E, U+2066–U+2069: \u202e;
//   - lone surrogates (node would print them as U+FFFD): \ud800.
// Key bytes that are not valid UTF-8 were already made visible at the decoding step
// (src/units/bytes-text.ts: 0xff → the four characters \xff; log lines too, ingest/lines.ts), so \xff and
// \xfe stay distinct and print once escaped, as etcd's own Go-escaped `\xff` in request text does.
// A backslash itself is not escaped: a key whose text is the four characters `\x1b` prints the same
// as a key holding ESC; that ambiguity is the price of keeping ordinary keys readable.

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|\p{Cs}/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');
const NAMED: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };

function escapeOne(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const c = ch.charCodeAt(0);
  return c <= 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/** The text with every control, bidi control and lone surrogate replaced by a visible escape. */
export function safeText(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, escapeOne) : s;
}

/** A table cell or a message fragment from the data: null/undefined as given, numbers as they are. */
export function safeValue<T extends string | number | null | undefined>(v: T): T | string {
  return typeof v === 'string' ? safeText(v) : v;
}

/** True when the text holds nothing safeText() would change. */
export function isTerminalSafe(s: string): boolean {
  return !UNSAFE.test(s);
}

const JSON_UNSAFE = /[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * JSON text that is also terminal-safe: JSON.stringify escapes C0 controls and lone surrogates but
 * leaves DEL, C1 controls (U+009B is a CSI on some terminals) and bidi controls raw; those become
 * \u escapes here, which any JSON parser reads back as the same string.
 */
export function safeJson(value: unknown, replacer?: (key: string, v: unknown) => unknown, indent: number = 2): string {
  const s = JSON.stringify(value, replacer as ((this: unknown, key: string, v: unknown) => unknown) | undefined, indent);
  return s.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
