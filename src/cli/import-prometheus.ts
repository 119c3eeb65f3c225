// `ingest --prometheus URL --since 30d [--step 5m] [--selector '{job="etcd"}']`: etcd's metrics from Prometheus
// (or anything that answers its query_range API) into the store, as status samples per cluster and member.
import { readFileSync } from 'node:fs';
import { openStore, storeWaitMs } from '../store/open.js';
import { createHttpClient } from '../ingest/http-client.js';
import { displayUrl } from '../ingest/prometheus-import.js';
import { importFromPrometheusInWorker } from './import-prometheus-thread.js';
import { UsageError } from '../errors.js';
import { credentialsFromOptions, parseDurationOption, tlsFromOptions, type TlsCliOptions } from './live-options.js';
import { parseTimeOption } from './options.js';
import { out, isoOrDash, safeText } from './format.js';

export interface PrometheusCliOptions extends TlsCliOptions {
  db: string;
  prometheus: string;
  since?: string;
  until?: string;
  step?: string;
  selector?: string;
  bearerTokenFile?: string;
  user?: string;
  passwordFile?: string;
  cluster?: string;
}

/** `--since 30d` (back from now) or an ISO time. */
function sinceMs(text: string, nowMs: number): number {
  if (/^\d/.test(text) && !/^\d{4}-/.test(text)) return nowMs - parseDurationOption('--since', text);
  return parseTimeOption('--since', text, null, '2026-11-01T00:00:00Z');
}

export async function runPrometheusImport(paths: string[], opts: PrometheusCliOptions): Promise<void> {
  if (paths.length > 0) throw new UsageError(`--prometheus: give no paths (got ${paths[0]}); import and file ingest are separate runs`);
  if (opts.cluster !== undefined) throw new UsageError('--cluster: not taken with --prometheus (clusters come from the cluster label, else the job)');
  try {
    const u = new URL(opts.prometheus);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    if (u.username || u.password) throw new UsageError('--prometheus: credentials in the URL would be on the command line; use --user with --password-file or PROMETHEUS_PASSWORD, or --bearer-token-file');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--prometheus ${opts.prometheus}: expected an http:// or https:// URL`);
  }
  const now = Date.now();
  const endMs = opts.until ? parseTimeOption('--until', opts.until, null, '2026-11-30T00:00:00Z') : now;
  const startMs = sinceMs(opts.since ?? '30d', now);
  if (startMs >= endMs) throw new UsageError(`--since ${opts.since}: not before the end of the range (${new Date(endMs).toISOString()})`);
  const stepMs = parseDurationOption('--step', opts.step ?? '5m', 1000);
  const headers: Record<string, string> = {};
  if (opts.bearerTokenFile !== undefined) {
    let tok: string;
    try {
      tok = readFileSync(opts.bearerTokenFile, 'utf8').trim();
    } catch (e) {
      throw new UsageError(`--bearer-token-file ${opts.bearerTokenFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    headers['authorization'] = `Bearer ${tok}`;
  }
  const basic = credentialsFromOptions(opts, null, 'PROMETHEUS_PASSWORD');
  if (basic) {
    if (headers['authorization']) throw new UsageError('--user and --bearer-token-file: give one');
    headers['authorization'] = `Basic ${Buffer.from(`${basic.user}:${basic.password}`).toString('base64')}`;
  }
  const httpOptions = { tls: tlsFromOptions(opts, null), headers, timeoutMs: 120_000 };
  createHttpClient(httpOptions).close(); // an unreadable --cacert/--cert/--key is refused here, before any thread
  const db = openStore(opts.db);
  try {
    // On a thread with a bounded heap, with the cluster assignment after it (import-prometheus-thread.ts).
    const r = await importFromPrometheusInWorker({
      dbPath: opts.db, waitMs: storeWaitMs(), http: httpOptions, options: { url: opts.prometheus, startMs, endMs, stepMs, selector: opts.selector ?? null },
    }, (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${safeText(`prometheus: ${Math.round((100 * done) / Math.max(1, total))}%`)}`);
    }, (firstMb, retryMb) => {
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}prometheus: the import needed more than ${firstMb} MB of heap; running it again with ${retryMb} MB (what it stored is kept)\n`);
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const added = r.added.reduce((n, a) => n + a.added, 0);
    out(`prometheus ${displayUrl(opts.prometheus)}: ${r.series} series in ${r.chunks} quer${r.chunks === 1 ? 'y' : 'ies'}, ${r.seen} readings, ${added} new (${r.seen - added} stored before), ${isoOrDash(r.firstMs)} .. ${isoOrDash(r.lastMs)}\n`);
    for (const a of r.added) out(`  cluster ${a.cluster ?? '(unnamed)'}: ${a.added} readings (source #${a.sourceId})\n`);
    if (r.series === 0) out(`  no etcd series matched ${opts.selector ?? 'the etcd metric names'} in that range\n`);
  } finally {
    db.close();
  }
}
