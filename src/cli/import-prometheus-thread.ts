// `ingest --prometheus` runs its import, and the cluster assignment after it, on a worker thread whose heap is
// bounded (resourceLimits): the import makes garbage at a steady rate (answers, parsed series, rollup rows) over a
// small live set (20-45 MB at 200 clusters), and V8 left alone let the heap grow to 4-5 times that before collecting
// (peak RSS 249-333 MiB). The assignment runs there too: on the main thread after the worker, its GROUP BY over every
// reading took memory on top of what the worker's allocator kept (225 MiB against 160 MiB during the import).
// The main thread waits; the store is opened (and migrated) by the caller first, then again by the worker.
import { Worker } from 'node:worker_threads';
import type { HttpClientOptions } from '../ingest/http-client.js';
import type { PrometheusImportOptions, PrometheusImportResult } from '../ingest/prometheus-import.js';
import { ForensicsError, InputError, StoreError, UsageError, type ErrorCode, type StoreFailure } from '../errors.js';

export interface PrometheusJob {
  dbPath: string;
  waitMs: number;
  http: HttpClientOptions;
  options: Omit<PrometheusImportOptions, 'onChunk'>;
}

export type PrometheusThreadMessage =
  | { t: 'chunk'; done: number; total: number }
  | { t: 'done'; result: PrometheusImportResult }
  | { t: 'error'; message: string; code: string | null; forensics: ErrorCode | null; failure: StoreFailure | null };

// The bounds, measured at 200 clusters x 3 members x 30 d (3,000 series; the live set stays under 45 MB in heap
// snapshots), import and assignment, one run each at load 2-3.5 (bench/RESULTS-fleet.md):
//   unbounded 36.0 s user, 249 MiB peak RSS; old 96 MB + young 16 MB 42.9 s, 161 MiB; 128 + 16 41.0 s, 173 MiB;
//   96 + 24 39.3 s, 163 MiB; 96 + 32 37.0 s, 187 MiB.
const HEAP_MB = 96;
const YOUNG_MB = 24;
/**
 * A fleet far larger than the bench's may need more: a worker that runs out of its heap is run again once with
 * this much. The import is idempotent (the natural key), so the second run adds only what the first did not commit.
 */
const RETRY_HEAP_MB = 4 * HEAP_MB;

/** The first heap bound: ETCD_FORENSICS_IMPORT_HEAP_MB overrides it (a test makes the first run fail). */
function firstHeapMb(): number {
  const v = Number(process.env.ETCD_FORENSICS_IMPORT_HEAP_MB);
  return Number.isInteger(v) && v > 0 ? v : HEAP_MB;
}

/** `onRetry`: told when the first run ran out of heap and the import runs again with RETRY_HEAP_MB. */
export async function importFromPrometheusInWorker(job: PrometheusJob, onChunk?: (doneMs: number, totalMs: number) => void,
  onRetry?: (firstMb: number, retryMb: number) => void): Promise<PrometheusImportResult> {
  const first = firstHeapMb();
  try {
    return await runImportWorker(job, first, onChunk);
  } catch (e) {
    if (!(e instanceof HeapExhausted)) throw e;
    onRetry?.(first, RETRY_HEAP_MB);
    return runImportWorker(job, RETRY_HEAP_MB, onChunk);
  }
}

class HeapExhausted extends ForensicsError {
  constructor(mb: number) {
    super('internal', `the Prometheus import needed more than its ${mb} MB heap; import fewer series at a time with --selector`);
  }
}

function runImportWorker(job: PrometheusJob, heapMb: number, onChunk?: (doneMs: number, totalMs: number) => void): Promise<PrometheusImportResult> {
  // Under tsx (tests that import src/) the worker is the .ts file next to this one.
  const url = new URL(import.meta.url.endsWith('.ts') ? './import-prometheus-worker.ts' : './import-prometheus-worker.js', import.meta.url);
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: YOUNG_MB } });
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
    };
    w.on('message', (m: PrometheusThreadMessage) => {
      if (m.t === 'chunk') onChunk?.(m.done, m.total);
      else if (m.t === 'done') settle(() => resolve(m.result));
      else settle(() => reject(rebuildError(m)));
    });
    w.on('error', (e: Error & { code?: string }) => settle(() => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new HeapExhausted(heapMb)
      : new Error(`prometheus import thread: ${e.message}`))));
    w.on('exit', (code) => settle(() => reject(new Error(`prometheus import thread stopped (exit code ${code}) before it finished`))));
  });
}

/** The worker's error as the class the CLI maps to an exit code (a SQLite error keeps its code). */
function rebuildError(m: Extract<PrometheusThreadMessage, { t: 'error' }>): Error {
  switch (m.forensics) {
    case 'usage': return new UsageError(m.message);
    case 'input': return new InputError(m.message);
    case 'store': return new StoreError(m.message, m.failure ?? 'io');
    case 'internal': return new ForensicsError('internal', m.message);
  }
  const e = new Error(m.message) as Error & { code?: string };
  if (m.code !== null) e.code = m.code;
  return e;
}
