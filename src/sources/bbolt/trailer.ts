// Checking the sha256 trailer of an `etcdctl snapshot save` file means hashing every byte of the
// image: ~0.4 s for 220 MB here, as long as the whole tree walk. For big files the hash runs in a
// worker thread, on the second core, while the main thread walks the tree; the result is joined
// synchronously (Atomics.wait on a shared flag), so the reader's API stays synchronous. Small files,
// or a worker that cannot start, fail or finish in time, are hashed on the calling thread.
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const HASH_CHUNK = 4 * 1024 * 1024;
/** Below this a worker's start-up (~50 ms) costs more than it saves. */
const WORKER_MIN_BYTES = 32 * 1024 * 1024;
const PENDING = 0;
const DONE = 1;
const FAILED = 2;

// Plain CommonJS, evaluated in the worker: no TypeScript loader or file path needed.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { path, dataLength, shared, chunkBytes } = workerData;
const state = new Int32Array(shared, 0, 1);
const digest = new Uint8Array(shared, 8, 32);
let status = ${FAILED};
try {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(dataLength, 1)));
    for (let offset = 0; offset < dataLength; ) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, dataLength - offset), offset);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      offset += n;
    }
    digest.set(hash.digest());
    status = ${DONE};
  } finally {
    closeSync(fd);
  }
} catch {}
Atomics.store(state, 0, status);
Atomics.notify(state, 0);
`;

/** A sha256 over [0, dataLength) of a file, possibly still being computed. */
export interface PendingSha256 {
  /** Blocks until the digest is known; hex. */
  join(): string;
  /** Stop a background hash that is no longer wanted. */
  cancel(): void;
}

/** Hashes the image of `fd`/`path` in the background when it is big enough to be worth it. */
export function startSha256(path: string, fd: number, dataLength: number, workerMinBytes = WORKER_MIN_BYTES): PendingSha256 {
  if (dataLength < workerMinBytes) return settled(sha256OfRange(fd, dataLength));
  const shared = new SharedArrayBuffer(8 + 32);
  const state = new Int32Array(shared, 0, 1);
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, dataLength, shared, chunkBytes: HASH_CHUNK } });
  } catch {
    return settled(sha256OfRange(fd, dataLength));
  }
  worker.unref();
  worker.on('error', () => undefined); // a failed worker leaves the flag at FAILED or PENDING
  let result: string | null = null;
  return {
    join: () => {
      if (result !== null) return result;
      // Generous: 20 s plus 5 s per 100 MB; past it, hash here rather than wait forever.
      const deadline = Date.now() + 20_000 + dataLength / 20_000;
      while (Atomics.load(state, 0) === PENDING && Date.now() < deadline) Atomics.wait(state, 0, PENDING, 100);
      const status = Atomics.load(state, 0);
      void worker.terminate();
      result = status === DONE ? Buffer.from(new Uint8Array(shared, 8, 32)).toString('hex') : sha256OfRange(fd, dataLength);
      return result;
    },
    cancel: () => void worker.terminate(),
  };
}

function settled(hex: string): PendingSha256 {
  return { join: () => hex, cancel: () => undefined };
}

/** sha256 of bytes [0, dataLength) of `fd`, streamed in 4 MiB chunks on this thread. */
export function sha256OfRange(fd: number, dataLength: number): string {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(HASH_CHUNK, Math.max(dataLength, 1)));
  for (let offset = 0; offset < dataLength; ) {
    const n = readSync(fd, chunk, 0, Math.min(chunk.length, dataLength - offset), offset);
    if (n === 0) break;
    hash.update(chunk.subarray(0, n));
    offset += n;
  }
  return hash.digest('hex');
}
