// One content, one source. A source is keyed by the sha256 of its content — the bytes after gunzip — so a
// log and its .gz copy are one source, in either order. A sampling log read again after it grew is the
// stored content plus new lines: found here by hashing the new file's first N bytes for each stored size N.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Db } from '../store/open.js';
import { growthBases, type GrowthBase } from '../store/write.js';

/** sha256 and length of a file's content (gunzipped when `gzipped`). */
export async function hashContent(path: string, gzipped: boolean): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream: Readable = gzipped ? raw.pipe(createGunzip()) : raw;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

/**
 * The content size of a gzip file from its trailer (ISIZE: the length modulo 2^32 of the last member;
 * right for a file written by one gzip run). A hint only: the content is hashed before it is trusted.
 */
export function gzipContentSize(path: string, fileSize: number): number | null {
  if (fileSize < 18) return null;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, fileSize - 4) === 4 ? b.readUInt32LE(0) : null;
  } finally {
    closeSync(fd);
  }
}

export interface Growth {
  /** The stored source whose whole content is this file's first base.contentBytes bytes. */
  base: GrowthBase;
  /** sha256 of this file's whole content. */
  sha256: string;
  /** The line number of the first new line. */
  firstLine: number;
  /** How many lines follow the stored prefix. */
  tailLines: number;
}

/**
 * The longest stored text source whose content is a prefix of this plain file ending at a line boundary,
 * or null. Reads the file up to the longest candidate size and, on a match, to its end (the whole
 * content's sha256 keys the new source).
 */
export async function findGrowthBase(db: Db, path: string, fileSize: number): Promise<Growth | null> {
  const bases = growthBases(db, fileSize);
  if (bases.length === 0) return null;
  const bySize = new Map<number, GrowthBase[]>();
  for (const b of bases) bySize.set(b.contentBytes, [...(bySize.get(b.contentBytes) ?? []), b]);
  const cuts = [...bySize.keys()].sort((a, b) => a - b);
  const h = createHash('sha256');
  let pos = 0;
  let newlines = 0;
  let lastByte = -1;
  let cut = 0;
  let found: { base: GrowthBase; newlines: number } | null = null;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      let buf = chunk as Buffer;
      while (buf.length > 0) {
        const next = cuts[cut];
        const take = next === undefined ? buf.length : Math.min(buf.length, next - pos);
        const part = buf.subarray(0, take);
        h.update(part);
        for (let i = part.indexOf(0x0a); i !== -1; i = part.indexOf(0x0a, i + 1)) newlines++;
        if (take > 0) lastByte = part[take - 1]!;
        pos += take;
        buf = buf.subarray(take);
        if (next !== undefined && pos === next) {
          const sha = h.copy().digest('hex');
          const match = bySize.get(next)!.find((b) => b.sha256 === sha);
          if (match && lastByte === 0x0a) found = { base: match, newlines };
          cut++;
          // Past the longest candidate without a match: nothing to find, and the parse hashes as it reads.
          if (cut === cuts.length && found === null) return null;
        }
      }
    }
  } finally {
    stream.destroy();
  }
  if (found === null || pos !== fileSize) return null;
  const tailLines = newlines - found.newlines + (lastByte === 0x0a ? 0 : 1);
  const base = { ...found.base, member: found.base.member ?? learnedMember(db, found.base.id) };
  return { base, sha256: h.digest('hex'), firstLine: found.newlines + 1, tailLines };
}

/**
 * The member a stored log named itself (zap's start-up line `"name":"etcd1"`, learnt by the parser as it
 * read): the tail is parsed without those first lines, so it is told the member. Null unless exactly one.
 */
function learnedMember(db: Db, sourceId: number): string | null {
  const rows = db.prepare('SELECT DISTINCT member FROM events WHERE source_id = ? AND member IS NOT NULL LIMIT 2').all(sourceId) as { member: string }[];
  return rows.length === 1 ? rows[0]!.member : null;
}
