// Random access to a bbolt file through a file descriptor: pages are read by offset with
// fs.readSync, one (overflow-extended) page at a time, so memory does not grow with the file.
// This is the one place in the reader that touches fs; bbolt is a page graph, not a stream.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BoltFormatError } from './errors.js';
import { startSha256, type PendingSha256 } from './trailer.js';

/** `etcdctl snapshot save` appends sha256(db bytes); a raw member/snap/db has no trailer. */
export type TrailerStatus =
  | { kind: 'none' }
  | { kind: 'sha256'; verified: false }
  | { kind: 'sha256'; verified: true; matches: boolean; expected: string; actual: string };

export interface BoltFile {
  path: string;
  /** Size of the file on disk. */
  fileSize: number;
  /** Bytes that belong to the bbolt image (fileSize minus a 32-byte sha256 trailer when present). */
  dataLength: number;
  /** The trailer check, started at open (in the background for big files); blocks until known. */
  trailerStatus(): TrailerStatus;
  /** Read exactly `length` bytes at `offset` within dataLength; throws BoltFormatError when short. */
  read(offset: number, length: number, what: string): Buffer;
  /** Same, into target[targetOffset, targetOffset+length) (a reused buffer). */
  readInto(target: Buffer, targetOffset: number, offset: number, length: number, what: string): void;
  close(): void;
}

const TRAILER_BYTES = 32;

/** True when the size says "bbolt image + sha256" (clientv3 snapshot hasChecksum: size % 512 == 32). */
export function hasSha256Trailer(fileSize: number): boolean {
  return fileSize % 512 === TRAILER_BYTES;
}

export function openFileForRead(path: string, verifyTrailer: boolean): BoltFile {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const withTrailer = hasSha256Trailer(fileSize);
    const dataLength = withTrailer ? fileSize - TRAILER_BYTES : fileSize;
    const read = (offset: number, length: number, what: string): Buffer => {
      const buffer = Buffer.allocUnsafe(length);
      readExactlyInto(fd, dataLength, buffer, 0, offset, length, what);
      return buffer;
    };
    const readInto = (target: Buffer, targetOffset: number, offset: number, length: number, what: string): void =>
      readExactlyInto(fd, dataLength, target, targetOffset, offset, length, what);
    const pending = withTrailer && verifyTrailer ? startSha256(path, fd, dataLength) : null;
    let trailer: TrailerStatus | null = withTrailer ? null : { kind: 'none' };
    const trailerStatus = (): TrailerStatus => {
      trailer ??= pending === null ? { kind: 'sha256', verified: false } : checkTrailer(fd, dataLength, pending);
      return trailer;
    };
    const close = (): void => {
      pending?.cancel();
      closeSync(fd);
    };
    return { path, fileSize, dataLength, trailerStatus, read, readInto, close };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function readExactlyInto(
  fd: number, dataLength: number, target: Buffer, targetOffset: number, offset: number, length: number, what: string,
): void {
  if (offset < 0 || length < 0 || offset + length > dataLength || targetOffset + length > target.length) {
    throw new BoltFormatError(
      `${what}: bytes [${offset}, ${offset + length}) are past the end of the data (${dataLength} bytes; file truncated?)`,
    );
  }
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, targetOffset + done, length - done, offset + done);
    if (n === 0) throw new BoltFormatError(`${what}: unexpected end of file at byte ${offset + done}`);
    done += n;
  }
}

/** Compares sha256(image) with the 32 bytes after it. */
function checkTrailer(fd: number, dataLength: number, pending: PendingSha256): TrailerStatus {
  const trailer = Buffer.alloc(TRAILER_BYTES);
  readExactlyInto(fd, dataLength + TRAILER_BYTES, trailer, 0, dataLength, TRAILER_BYTES, 'sha256 trailer');
  const expected = trailer.toString('hex');
  const actual = pending.join();
  return { kind: 'sha256', verified: true, matches: expected === actual, expected, actual };
}
