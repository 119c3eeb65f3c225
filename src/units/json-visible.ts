// JSON lines that held bytes which are not UTF-8. The line reader (ingest/lines.ts) shows such a byte as
// the four characters `\xff` (units/bytes-text.ts), and inside a JSON string that is an escape JSON does not
// have, so JSON.parse refused the whole line: a zap line whose key held a raw 0xff was lost (with U+FFFD it
// parsed). In valid JSON a backslash is always followed by one of "\/bfnrtu, so a `\x` can only be ours:
// on a refusal the line is parsed once more with each `\x` as `\\x`, and the string then holds the visible
// `\xff`, as the reader meant. Escape pairs are read left to right, so an escaped backslash (`\\xff`, the
// text \xff written by the program) is left as it is. Valid lines never take the second path.

/** JSON.parse, reading a `\xNN` the line reader wrote for a non-UTF-8 byte as the text `\xNN`. */
export function parseJsonVisible(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch (e) {
    if (!s.includes('\\x')) throw e;
    return JSON.parse(s.replace(/\\([\s\S])/g, (pair, c: string) => (c === 'x' ? '\\\\x' : pair)));
  }
}
