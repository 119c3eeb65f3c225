// The one line reader: files, gzip (detected by magic, not by name) and stdin, streamed in chunks.
// Hashes the content as it passes — the bytes after gunzip, so one log plain and gzipped is one source
// (sha256 keys a source for idempotent re-ingest) — and counts raw bytes for progress. Never holds more
// than one chunk plus one partial line.
import { createReadStream } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

/** Consecutive lines: lines[i] is line number firstLineNo + i. */
export interface LineBatch {
  firstLineNo: number;
  lines: string[];
}

export interface LineSource {
  /** Lines without their terminator ('\n' or '\r\n'), numbered from 1. */
  lines(): AsyncGenerator<{ text: string; lineNo: number }>;
  /**
   * The same lines, one batch per chunk read (128 KiB from a file). The hot path: one await per chunk instead
   * of one per line (a 1 GB log has ~3.5 million lines), and no wrapper object per line.
   */
  batches(): AsyncGenerator<LineBatch>;
  /** sha256 of the content read so far (after gunzip; complete once lines() is exhausted). */
  digest(): string;
  /** Raw bytes read so far (from the file: compressed for a .gz). */
  bytesRead(): number;
  /** Content bytes read so far (after gunzip). */
  contentBytes(): number;
}

export interface LineSourceOptions {
  /** Hash the content (false when the caller already knows its sha256). */
  hash: boolean;
  /**
   * Start reading a plain file at this byte offset (a line boundary), numbering its first line
   * `firstLineNo`: the tail of a log that grew since it was stored. Not for gzip or stdin.
   */
  start?: number;
  firstLineNo?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
/** Lines longer than this many bytes are cut and reported by the parser as they stand (a binary file has no newlines). */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Bytes per read. 128 KiB rather than 1 MiB: with the parse worker, a batch of lines (and its rows)
 * is alive in both threads at once; smaller batches kept peak RSS on a 100 MB NOSPACE log at 144 MB
 * instead of 217 MB, at the same speed (bench/RESULTS-ingest.md).
 */
const READ_CHUNK_BYTES = 128 * 1024;

/** `hash: false` when the caller already knows the content's sha256 (a file hashed before parsing). */
export function openLineSource(input: string | Readable, opts: LineSourceOptions = { hash: true }): LineSource {
  const raw: Readable = typeof input === 'string'
    ? createReadStream(input, { highWaterMark: READ_CHUNK_BYTES, start: opts.start ?? 0 })
    : input;
  const hash: Hash | null = opts.hash ? createHash('sha256') : null;
  let bytes = 0;
  let content = 0;
  async function* rawChunks(): AsyncGenerator<Buffer> {
    for await (const chunk of raw) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += buf.length;
      yield buf;
    }
  }
  // A tail read starts mid-file: never take its first bytes for a gzip header.
  const contentChunks = async function* (): AsyncGenerator<Buffer> {
    for await (const buf of opts.start ? rawChunks() : decompressed(rawChunks())) {
      content += buf.length;
      hash?.update(buf);
      yield buf;
    }
  };
  // Lines are found in the raw bytes and each is decoded on its own. Decoding a whole chunk
  // (StringDecoder) was 12% of ingest CPU: one non-ASCII byte (zap's `"took":"668.176µs"`) makes
  // the whole chunk a two-byte string, and then every line, JSON.parse and SQLite's binding work on
  // UTF-16. Per line, ASCII lines stay one-byte strings. A line cut by a chunk boundary is carried as bytes.
  async function* batches(): AsyncGenerator<LineBatch> {
    let carry: Buffer | null = null;
    let lineNo = (opts.firstLineNo ?? 1) - 1;
    for await (const chunk of contentChunks()) {
      const lines: string[] = [];
      let start = 0;
      let nl = chunk.indexOf(0x0a);
      if (carry !== null) {
        if (nl === -1) {
          carry = Buffer.concat([carry, chunk]);
          if (carry.length > MAX_LINE_CHARS) {
            lines.push(decodeLine(carry, 0, carry.length));
            carry = null;
          }
        } else {
          const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
          lines.push(decodeLine(joined, 0, joined.length));
          carry = null;
          start = nl + 1;
          nl = chunk.indexOf(0x0a, start);
        }
      }
      if (carry === null) {
        for (; nl !== -1; nl = chunk.indexOf(0x0a, start)) {
          lines.push(decodeLine(chunk, start, nl));
          start = nl + 1;
        }
        if (start < chunk.length) carry = chunk.subarray(start);
        if (carry !== null && carry.length > MAX_LINE_CHARS) {
          lines.push(decodeLine(carry, 0, carry.length));
          carry = null;
        }
      }
      if (lines.length === 0) continue;
      yield { firstLineNo: lineNo + 1, lines };
      lineNo += lines.length;
    }
    if (carry !== null && carry.length > 0) yield { firstLineNo: lineNo + 1, lines: [decodeLine(carry, 0, carry.length)] };
  }
  return {
    digest: () => {
      if (!hash) throw new Error('openLineSource: opened without hashing');
      return hash.copy().digest('hex');
    },
    bytesRead: () => bytes,
    contentBytes: () => content,
    async *lines() {
      for await (const b of batches()) {
        for (let i = 0; i < b.lines.length; i++) yield { text: b.lines[i]!, lineNo: b.firstLineNo + i };
      }
    },
    batches,
  };
}

/** bytes[start, end) as UTF-8 (invalid sequences → U+FFFD), without a trailing '\r'. */
function decodeLine(bytes: Buffer, start: number, end: number): string {
  const e = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
  return bytes.toString('utf8', start, e);
}

/** Passes chunks through, or through gunzip when the first bytes are the gzip magic. */
async function* decompressed(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const first = await chunks.next();
  if (first.done) return;
  const head = first.value;
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield head;
    yield* chunks;
    return;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    yield* chunks;
  }
  const gunzip = Readable.from(all()).pipe(createGunzip());
  for await (const out of gunzip) yield out as Buffer;
}
