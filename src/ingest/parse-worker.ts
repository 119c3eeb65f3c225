// The parse worker: reads, splits and parses one large file on the second core while the main thread
// writes the rows it posts (parse-thread.ts, ingest-file.ts). Messages to the main thread, in order:
//   {t:'kind', kind}  {t:'batch', batch}…  {t:'end', produced, digest, bytesRead}   or   {t:'error', …}
// The main thread answers each batch with 'ack'; at most MAX_IN_FLIGHT batches wait unwritten, so the
// memory held between the threads stays a few MiB whichever side is faster.
import { parentPort, workerData } from 'node:worker_threads';
import { openLineSource } from './lines.js';
import { produceRows, type ProduceOptions } from './produce.js';
import { ForensicsError } from '../errors.js';
import { NotAnInputError } from './detect.js';
import type { RowBatch } from '../store/rows.js';

export interface ParseWorkerData {
  path: string;
  /** Hash the bytes as they stream (when the file was not hashed before). */
  hash: boolean;
  opts: ProduceOptions;
  /** The tail of a grown log: start at this byte offset, numbering from firstLineNo (lines.ts). */
  start?: number;
  firstLineNo?: number;
  /** Stop at this byte offset (the second range of a split parse ends at the size the file had). */
  end?: number;
  /**
   * The first range of a split parse (parse-split.ts): once the detection sample is parsed, post
   * {t:'sample'} and wait for the main thread's {t:'range'}: where to stop, and up to where to hash on.
   */
  splitFirst?: boolean;
  /** The file is known to be plain (not gzip): lines.ts reads it synchronously into one buffer. */
  plain?: boolean;
}

/** The main thread's answer to {t:'sample'}: null fields for a file parsed whole. */
export interface RangeMessage { t: 'range'; stopAt: number | null; hashTo: number | null }

const MAX_IN_FLIGHT = 4;
const PROGRESS_MS = 100;

async function run(port: NonNullable<typeof parentPort>, data: ParseWorkerData): Promise<void> {
  let inFlight = 0;
  let wake: (() => void) | null = null;
  let range: RangeMessage | null = null;
  let onRange: (() => void) | null = null;
  port.on('message', (m: 0 | RangeMessage) => {
    if (m !== 0) {
      range = m;
      onRange?.();
      return;
    }
    inFlight--;
    const w = wake;
    wake = null;
    w?.();
  });
  // Most 128 KiB chunks of a NOSPACE log add lines to open groups and make no row: such a batch is posted
  // only for progress, at most every PROGRESS_MS (a postMessage per chunk was ~8% of a worker's CPU).
  let lastPost = 0;
  const send = async (batch: RowBatch): Promise<void> => {
    if (batch.events.length === 0 && batch.requests.length === 0 && batch.singles.length === 0) {
      const now = performance.now();
      if (now - lastPost < PROGRESS_MS) return;
      lastPost = now;
    }
    while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => { wake = r; });
    inFlight++;
    port.postMessage({ t: 'batch', batch });
  };
  const src = openLineSource(data.path, { hash: data.hash, start: data.start, firstLineNo: data.firstLineNo, end: data.end, syncPlain: data.plain === true });
  try {
    const produced = await produceRows(src, data.opts, {
      begin: (kind) => port.postMessage({ t: 'kind', kind }),
      batch: send,
    }, data.splitFirst ? async (info) => {
      port.postMessage({ t: 'sample', info });
      if (range === null) await new Promise<void>((r) => { onRange = r; });
      if (range!.stopAt !== null) src.stopAt(range!.stopAt);
    } : undefined);
    const bytesRead = src.bytesRead();
    const contentBytes = src.contentBytes();
    const hashTo = (range as RangeMessage | null)?.hashTo ?? null;
    if (data.hash && hashTo !== null) await src.hashTo(hashTo);
    port.postMessage({ t: 'end', produced, digest: data.hash ? src.digest() : null, bytesRead, contentBytes });
  } catch (e) {
    const input = e instanceof ForensicsError && e.code === 'input';
    port.postMessage({ t: 'error', input, notInput: e instanceof NotAnInputError ? e.why : undefined, message: (e as Error).message });
  }
  port.close();
}

if (parentPort) void run(parentPort, workerData as ParseWorkerData);
