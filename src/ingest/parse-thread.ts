// The main thread's side of the parse worker (parse-worker.ts): when to use it, and running one file
// through it. The worker reads and parses; the consumer given here (the database side) stays on this
// thread and sees the same begin/batch calls as when produceRows runs in-thread.
import { Worker } from 'node:worker_threads';
import type { RowBatch } from '../store/rows.js';
import type { TextKind } from './detect.js';
import type { Produced, SampleInfo } from './produce.js';
import type { ParseWorkerData, RangeMessage } from './parse-worker.js';
import { InputError } from '../errors.js';
import { NotAnInputError } from './detect.js';

/** The parse worker pays off once parsing a file takes far longer than starting a thread (~30 ms). */
const PARSE_WORKER_MIN_BYTES = 8 << 20;

/** ETCD_FORENSICS_PARSE_WORKER=always|never overrides the size rule (tests run both paths). */
export function useParseWorker(sizeBytes: number): boolean {
  const v = process.env.ETCD_FORENSICS_PARSE_WORKER;
  if (v === 'always') return true;
  if (v === 'never') return false;
  return sizeBytes >= PARSE_WORKER_MIN_BYTES;
}

type WorkerMessage =
  | { t: 'kind'; kind: TextKind }
  | { t: 'sample'; info: SampleInfo }
  | { t: 'batch'; batch: RowBatch }
  | { t: 'end'; produced: Produced; digest: string | null; bytesRead: number; contentBytes: number }
  | { t: 'error'; input: boolean; notInput?: string; message: string };

export const WORKER_OUT_OF_MEMORY = 'ERR_WORKER_OUT_OF_MEMORY';

export interface WorkerRun { produced: Produced; digest: string | null; bytesRead: number; contentBytes: number }

export interface WorkerHooks {
  /** With data.splitFirst: where the worker stops and up to where it hashes (parse-split.ts). */
  onSample?: (info: SampleInfo) => Omit<RangeMessage, 't'>;
  /** Filled in: ends the worker at once (the other range of a split parse failed). */
  stop?: () => void;
  /**
   * The worker's young generation, 12 MB unless given. Two split-parse workers take 6 each: on the 1 GB NOSPACE
   * log peak RSS 180-188 MiB at 8.2-8.9 s, against 201-207 MiB at 8.5-9.4 s with 12 (4: 181-184 MiB, 9.5-9.9 s).
   */
  youngMb?: number;
  /** A bound on the worker's old generation (none unless given); a worker past it fails with WORKER_OUT_OF_MEMORY. */
  oldMb?: number;
}

/** Runs produceRows in the parse worker; the consumer (the database side) stays on this thread. */
export function runParseWorker(
  data: ParseWorkerData,
  consumer: { begin: (kind: TextKind) => void; batch: (b: RowBatch) => void },
  hooks: WorkerHooks = {},
): Promise<WorkerRun> {
  // Under tsx (tests that import src/) the worker is the .ts file next to this one.
  const url = new URL(import.meta.url.endsWith('.ts') ? './parse-worker.ts' : './parse-worker.js', import.meta.url);
  return new Promise((resolve, reject) => {
    // A smaller young generation than V8's default: each batch is garbage once posted, and on the 100 MB
    // NOSPACE log this kept peak RSS at 120 MB instead of 142 MB at the same speed (6 MB was slower).
    const w = new Worker(url, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: hooks.youngMb ?? 12, ...(hooks.oldMb ? { maxOldGenerationSizeMb: hooks.oldMb } : {}) } });
    let settled = false;
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      void w.terminate();
      reject(e);
    };
    hooks.stop = () => fail(new Error('parse worker stopped'));
    w.on('message', (m: WorkerMessage) => {
      if (settled) return;
      try {
        switch (m.t) {
          case 'kind':
            consumer.begin(m.kind);
            return;
          case 'sample': {
            const r = hooks.onSample?.(m.info) ?? { stopAt: null, hashTo: null };
            w.postMessage({ t: 'range', ...r } satisfies RangeMessage);
            return;
          }
          case 'batch':
            consumer.batch(m.batch);
            w.postMessage(0);
            return;
          case 'end':
            settled = true;
            resolve({ produced: m.produced, digest: m.digest, bytesRead: m.bytesRead, contentBytes: m.contentBytes });
            return;
          case 'error':
            fail(m.notInput !== undefined ? new NotAnInputError(m.message, m.notInput) : new InputError(m.input ? m.message : `${data.path}: ${m.message}`));
            return;
        }
      } catch (e) {
        fail(e as Error);
      }
    });
    w.on('error', (e: Error & { code?: string }) => fail(Object.assign(new Error(`parse worker: ${e.message}`), { code: e.code })));
    w.on('exit', (code) => fail(new Error(`parse worker stopped (exit code ${code}) before the end of ${data.path}`)));
  });
}
