// The one line reader: files, gzip (detected by magic, not by name) and stdin, streamed in chunks.
// Hashes the content as it passes — the bytes after gunzip, so one log plain and gzipped is one source
// (sha256 keys a source for idempotent re-ingest) — and counts raw bytes for progress. Never holds more
// than one chunk plus one partial line.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { decodeUtf8Visible } from '../units/bytes-text.js';

/** Consecutive lines: lines[i] is line number firstLineNo + i. */
export interface LineBatch {
  firstLineNo: number;
  lines: string[];
  /**
   * Lines longer than MAX_LINE_BYTES, in order: their text in `lines` is '' and they are not parsed.
   * Each is one skipped line with its true length; its bytes were never held (a 200 MB line costs
   * nothing but its first OVERLONG_HEAD_BYTES).
   */
  overlong?: OverlongLine[];
}

export interface OverlongLine {
  /** Index into LineBatch.lines. */
  index: number;
  /** The whole line's length in bytes, without its terminator. */
  bytes: number;
  /** Its first bytes, for the excerpt. */
  head: string;
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
  /** A plain file: the byte offset read up to (the start offset plus the bytes read). */
  position(): number;
  /**
   * A plain file only: stop at this byte offset (a line start) instead of the end; set before the reader gets
   * there (parse-split.ts sets it once the detection sample is read, far before the seam).
   */
  stopAt(offset: number): void;
  /** A plain file only, once the lines are read: hash its bytes from where the lines stopped up to `end`. */
  hashTo(end: number): Promise<void>;
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
  /** A plain file only: stop reading at this byte offset (a line start; exclusive). */
  end?: number;
  /**
   * The caller knows the file is plain (not gzip): read it with readSync into one buffer used again for each
   * chunk (a parse worker has nothing else to do while it waits; the stream's thread-pool round trip and fresh
   * buffer per chunk were ~7% of a worker's CPU). The lines are decoded from each chunk before the next read.
   */
  syncPlain?: boolean;
}

const GZIP_MAGIC = [0x1f, 0x8b];
/**
 * Lines longer than this many bytes are not parsed: each is one skipped line (OverlongLine) with its true
 * number and length, and the lines after it keep their numbers. No log line or etcdctl output is near
 * 1 MiB; a binary file or a minified blob is.
 */
export const MAX_LINE_BYTES = 1 << 20;
/** How much of an over-long line is kept for its excerpt. */
export const OVERLONG_HEAD_BYTES = 256;

/**
 * Bytes per read. 128 KiB rather than 1 MiB: with the parse worker, a batch of lines (and its rows)
 * is alive in both threads at once; smaller batches kept peak RSS on a 100 MB NOSPACE log at 144 MB
 * instead of 217 MB, at the same speed (bench/RESULTS-ingest.md).
 */
const READ_CHUNK_BYTES = 128 * 1024;

/** `hash: false` when the caller already knows the content's sha256 (a file hashed before parsing). */
export function openLineSource(input: string | Readable, opts: LineSourceOptions = { hash: true }): LineSource {
  const start = opts.start ?? 0;
  // A plain file read synchronously (syncChunks) has no stream.
  const raw: Readable | null = typeof input === 'string' && opts.syncPlain ? null : typeof input === 'string'
    ? createReadStream(input, { highWaterMark: READ_CHUNK_BYTES, start, ...(opts.end !== undefined ? { end: opts.end - 1 } : {}) })
    : input;
  const hash: Hash | null = opts.hash ? createHash('sha256') : null;
  let bytes = 0;
  let content = 0;
  let limit: number | null = null;
  async function* syncChunks(path: string): AsyncGenerator<Buffer> {
    const fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    try {
      for (;;) {
        const pos = start + bytes;
        const want = Math.min(buf.length, (limit ?? Infinity) - pos, (opts.end ?? Infinity) - pos);
        if (want <= 0) return;
        const n = readSync(fd, buf, 0, want, pos);
        if (n === 0) return;
        bytes += n;
        yield buf.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }
  async function* rawChunks(): AsyncGenerator<Buffer> {
    if (raw === null) {
      yield* syncChunks(input as string);
      return;
    }
    for await (const chunk of raw) {
      let buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      const room = limit === null ? Infinity : limit - (start + bytes);
      if (buf.length > room) buf = buf.subarray(0, Math.max(0, room));
      bytes += buf.length;
      if (buf.length > 0) yield buf;
      if (limit !== null && start + bytes >= limit) {
        raw.destroy();
        return;
      }
    }
  }
  // A tail read starts mid-file: never take its first bytes for a gzip header.
  const contentChunks = async function* (): AsyncGenerator<Buffer> {
    for await (const buf of opts.start || opts.syncPlain ? rawChunks() : decompressed(rawChunks())) {
      content += buf.length;
      hash?.update(buf);
      yield buf;
    }
  };
  // Lines are found in the raw bytes and each is decoded on its own. Decoding a whole chunk
  // (StringDecoder) was 12% of ingest CPU: one non-ASCII byte (zap's `"took":"668.176µs"`) makes
  // the whole chunk a two-byte string, and then every line, JSON.parse and SQLite's binding work on
  // UTF-16. Per line, ASCII lines stay one-byte strings. A line cut by a chunk boundary is carried as
  // bytes; once the carry passes MAX_LINE_BYTES only its length is counted until the line ends.
  async function* batches(): AsyncGenerator<LineBatch> {
    const split = new LineSplitter(opts.firstLineNo ?? 1);
    for await (const chunk of contentChunks()) {
      const b = split.push(chunk);
      if (b) yield b;
    }
    const last = split.end();
    if (last) yield last;
  }
  return {
    digest: () => {
      if (!hash) throw new Error('openLineSource: opened without hashing');
      return hash.copy().digest('hex');
    },
    bytesRead: () => bytes,
    contentBytes: () => content,
    position: () => start + bytes,
    stopAt: (offset: number) => {
      if (typeof input !== 'string' || offset < start + bytes) throw new Error(`openLineSource: cannot stop at ${offset}`);
      limit = offset;
    },
    hashTo: async (end: number) => {
      if (typeof input !== 'string' || !hash) throw new Error('openLineSource: hashTo needs a hashed file');
      // One buffer read into again and again: a stream's fresh buffer per chunk is external memory the
      // garbage collector frees late (a 500 MB range read so held ~70 MB at once).
      const buf = Buffer.allocUnsafe(1 << 20);
      const fd = await open(input, 'r');
      try {
        for (let pos = start + bytes; pos < end;) {
          const { bytesRead: n } = await fd.read(buf, 0, Math.min(buf.length, end - pos), pos);
          if (n === 0) break;
          hash.update(buf.subarray(0, n));
          pos += n;
        }
      } finally {
        await fd.close();
      }
    },
    async *lines() {
      for await (const b of batches()) {
        for (let i = 0; i < b.lines.length; i++) yield { text: b.lines[i]!, lineNo: b.firstLineNo + i };
      }
    },
    batches,
  };
}

/**
 * Cuts chunks into lines. Holds at most one partial line of up to MAX_LINE_BYTES (plus the chunk being
 * cut); a longer line is counted, not kept.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Set while inside a line that has passed MAX_LINE_BYTES: its head and the bytes counted so far. */
  private long: { head: string; bytes: number } | null = null;
  private nextLineNo: number;

  constructor(firstLineNo = 1) {
    this.nextLineNo = firstLineNo;
  }

  /** The lines this chunk completes, or null when it completes none. */
  push(chunk: Buffer): LineBatch | null {
    const out: LineBatch = { firstLineNo: this.nextLineNo, lines: [] };
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      this.finishLine(out, chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.extend(chunk.subarray(start));
    this.nextLineNo += out.lines.length;
    return out.lines.length > 0 ? out : null;
  }

  /** The last line when the input does not end with a newline. */
  end(): LineBatch | null {
    if (this.long === null && this.carryBytes === 0) return null;
    const out: LineBatch = { firstLineNo: this.nextLineNo, lines: [] };
    this.finishLine(out, Buffer.alloc(0), 0, 0);
    this.nextLineNo++;
    return out;
  }

  /** Ends the line made of the carry and chunk[start, end). */
  private finishLine(out: LineBatch, chunk: Buffer, start: number, end: number): void {
    if (this.long === null && this.carryBytes + (end - start) > MAX_LINE_BYTES) this.startLong(chunk.subarray(start, end));
    else if (this.long !== null) this.long.bytes += end - start;
    if (this.long !== null) {
      // The length excludes a '\r' terminator as decodeLine drops it.
      const last = end > start ? chunk[end - 1] : this.lastCarryByte;
      const bytes = this.long.bytes - (last === 0x0d ? 1 : 0);
      (out.overlong ??= []).push({ index: out.lines.length, bytes, head: this.long.head });
      out.lines.push('');
      this.long = null;
    } else if (this.carryBytes === 0) {
      out.lines.push(decodeLine(chunk, start, end));
    } else {
      const joined = Buffer.concat([...this.carry, chunk.subarray(start, end)]);
      out.lines.push(decodeLine(joined, 0, joined.length));
    }
    this.carry = [];
    this.carryBytes = 0;
    this.lastCarryByte = -1;
  }

  private lastCarryByte = -1;

  /** Adds bytes with no newline to the current line. */
  private extend(part: Buffer): void {
    this.lastCarryByte = part[part.length - 1] ?? this.lastCarryByte;
    if (this.long !== null) {
      this.long.bytes += part.length;
      return;
    }
    if (this.carryBytes + part.length > MAX_LINE_BYTES) {
      this.startLong(part);
      return;
    }
    // Copied: the chunk's buffer may be reused by the stream.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  /** The current line passes MAX_LINE_BYTES with `part`: keep its head and count from here on. */
  private startLong(part: Buffer): void {
    const head = Buffer.concat([...this.carry, part.subarray(0, OVERLONG_HEAD_BYTES)]).subarray(0, OVERLONG_HEAD_BYTES);
    this.long = { head: decodeUtf8Visible(head), bytes: this.carryBytes + part.length };
    this.carry = [];
    this.carryBytes = 0;
  }
}

/**
 * bytes[start, end) as UTF-8, without a trailing '\r'. A byte that is not part of well-formed UTF-8 becomes
 * the four visible characters `\xNN` (units/bytes-text.ts), as keys read from a snapshot do, so a key
 * holding 0xff and one holding 0xfe stay two keys (with U+FFFD both were `/k\ufffd`). Only a line whose
 * plain decode holds U+FFFD is decoded again byte by byte; a real U+FFFD (EF BF BD) is kept as it is.
 */
function decodeLine(bytes: Buffer, start: number, end: number): string {
  const e = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
  return decodeUtf8Visible(bytes, start, e);
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
