// A gzip file whose deflate data is whole but whose trailer (CRC-32 and ISIZE, the last 8 bytes, RFC 1952
// §2.3) is damaged. gunzip refuses it only once it reaches the trailer, so a file small enough to be read
// whole for detection (under 64 KiB) was refused before anything looked at its content, and told "binary
// data" instead of what is wrong. The head is inflated past the gzip header as raw deflate (which never
// reads the trailer), so detection sees the content, and the one line at the end names the trailer bytes.
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';

/** Where the deflate data starts after the gzip header (FEXTRA, FNAME, FCOMMENT, FHCRC), or null. */
function deflateStart(b: Buffer): number | null {
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return null;
  const flags = b[3]!;
  let p = 10;
  if (flags & 4) { if (p + 2 > b.length) return null; p += 2 + b.readUInt16LE(p); }
  for (const bit of [8, 16]) {
    if (flags & bit) { const z = b.indexOf(0, p); if (z < 0) return null; p = z + 1; }
  }
  if (flags & 2) p += 2;
  return p <= b.length ? p : null;
}

/** The content at the head of a gzip file whose trailer (or end) gunzip refused; empty when none. */
export function inflateHeadIgnoringTrailer(head: Buffer): Buffer {
  const start = deflateStart(head);
  if (start === null) return Buffer.alloc(0);
  try {
    return inflateRawSync(head.subarray(start), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
}

/** zlib's message for a gzip file that cannot be gunzipped, with the byte offset it concerns when known. */
export function gunzipFailureDetail(e: unknown, fileBytes: number, compressedRead: number): string {
  const msg = (e as Error).message;
  const crcAt = fileBytes - 8;
  if (/incorrect data check/.test(msg)) return `the gzip trailer's CRC-32 (bytes ${crcAt}..${crcAt + 3}) does not match the content (${msg})`;
  if (/incorrect length check/.test(msg)) return `the gzip trailer's length (ISIZE, bytes ${crcAt + 4}..${crcAt + 7}) does not match the content (${msg})`;
  if (/unexpected end of file/.test(msg)) return `the gzip stream ends early, at byte ${fileBytes} (${msg})`;
  return `${msg} (within the first ${compressedRead} of ${fileBytes} compressed bytes)`;
}
