// Key bytes as text, without losing which bytes they were. etcd keys are arbitrary bytes; decoding
// them as UTF-8 with U+FFFD for every invalid byte made the keys 0xff and 0xfe one key, printed the
// same. Here each byte that is not part of a well-formed UTF-8 sequence becomes the four visible
// characters \xNN instead (0xff → `\xff`), and valid UTF-8 (U+FFFD itself included) decodes as usual.
// The keys are stored as TEXT, so this is the one place the difference can be kept. A key whose text
// really is `\xff` reads the same as the byte 0xff: rare, and visible, unlike U+FFFD.

/** buf[start, end) as UTF-8, every invalid byte as `\xNN`. */
export function decodeUtf8Visible(buf: Buffer, start = 0, end = buf.length): string {
  const text = buf.toString('utf8', start, end);
  // Fast path: no U+FFFD at all means every byte decoded.
  if (!text.includes('\ufffd')) return text;
  let out = '';
  let run = start;
  let i = start;
  while (i < end) {
    const n = sequenceLength(buf, i, end);
    if (n > 0) { i += n; continue; }
    out += buf.toString('utf8', run, i) + `\\x${buf[i]!.toString(16).padStart(2, '0')}`;
    i++;
    run = i;
  }
  return out + buf.toString('utf8', run, end);
}

/** Length of the well-formed UTF-8 sequence at i (Unicode Table 3-7), or 0 when the byte at i starts none. */
function sequenceLength(buf: Buffer, i: number, end: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < end && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
