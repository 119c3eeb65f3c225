// The Prometheus import on its own thread (import-prometheus-thread.ts starts it): its own store connection and HTTP
// client, the same importFromPrometheus, then the cluster assignment; progress, the result or the error posted back.
// Writes nothing to stdout or stderr (the main thread prints).
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/open.js';
import { createHttpClient } from '../ingest/http-client.js';
import { importFromPrometheus } from '../ingest/prometheus-import.js';
import { assignClusters } from '../analyze/clusters.js';
import { ForensicsError, StoreError } from '../errors.js';
import type { PrometheusJob, PrometheusThreadMessage } from './import-prometheus-thread.js';

async function run(port: NonNullable<typeof parentPort>, job: PrometheusJob): Promise<void> {
  const post = (m: PrometheusThreadMessage): void => port.postMessage(m);
  try {
    const http = createHttpClient(job.http);
    try {
      const db = openStore(job.dbPath, { waitMs: job.waitMs });
      try {
        const result = await importFromPrometheus(db, http, { ...job.options, onChunk: (done, total) => post({ t: 'chunk', done, total }) });
        assignClusters(db);
        post({ t: 'done', result });
      } finally {
        db.close();
      }
    } finally {
      http.close();
    }
  } catch (e) {
    const err = e as Error & { code?: unknown };
    post({
      t: 'error', message: err?.message ?? String(e), code: typeof err?.code === 'string' ? err.code : null,
      forensics: e instanceof ForensicsError ? e.code : null, failure: e instanceof StoreError ? e.failure : null,
    });
  }
}

if (parentPort) void run(parentPort, workerData as PrometheusJob);
