// A saved /metrics page (`curl -s http://127.0.0.1:2379/metrics > etcd1.metrics`): one reading of one member,
// timed by --at, else the file's modification time (a page carries no time of its own). Detected by content.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Db } from '../store/open.js';
import type { RecordTime } from '../model.js';
import { FleetSampleWriter } from '../store/fleet-samples.js';
import { findSourceBySha } from '../store/write.js';
import { compactRevisionOrNull, parseExposition, readEtcdMetrics, wholeOrNull } from '../sources/prometheus/index.js';
import { emptyReading } from './prometheus-import.js';
import { InputError } from '../errors.js';
import { decodeUtf8Visible } from '../units/bytes-text.js';

export interface MetricsPageResult {
  status: 'ingested' | 'duplicate';
  records: number;
  duplicateOf?: string;
  endpoint: string;
  time: RecordTime;
}

export function storeMetricsPage(db: Db, path: string, text: string, o: { member: string | null; time: RecordTime; sizeBytes: number }): MetricsPageResult {
  const sha = createHash('sha256').update(text).digest('hex');
  const { samples, issues } = parseExposition(text);
  const m = readEtcdMetrics(samples);
  const endpoint = o.member ?? m.serverId ?? path;
  const dup = findSourceBySha(db, sha);
  if (dup) return { status: 'duplicate', records: 0, duplicateOf: dup.path, endpoint, time: o.time };
  if (m.figures.dbSize === undefined && m.figures.revision === undefined) {
    const i = issues[0];
    throw new InputError(`${path}${i ? `:${i.line}` : ''}: a metrics page without etcd's size or revision (etcd_mvcc_db_total_size_in_bytes, etcd_debugging_mvcc_current_revision)${i ? `: ${i.reason}` : ''}`);
  }
  const s = emptyReading('metrics', o.time.ms, null, endpoint);
  s.basis = o.time.basis;
  s.memberId = m.serverId;
  s.version = m.version;
  s.dbSizeBytes = wholeOrNull(m.figures.dbSize);
  s.dbSizeInUseBytes = wholeOrNull(m.figures.dbSizeInUse);
  s.quotaBytes = wholeOrNull(m.figures.quota);
  s.revision = wholeOrNull(m.figures.revision);
  s.compactRevision = compactRevisionOrNull(m.figures.compactRevision);
  s.keysTotal = wholeOrNull(m.figures.keys);
  s.putsTotal = wholeOrNull(m.figures.puts);
  s.isLeader = m.figures.isLeader === undefined ? null : m.figures.isLeader === 1;
  const writer = new FleetSampleWriter(db, () => ({
    kind: 'metrics-page', family: 'metrics-page', cluster: null, path, member: o.member, sha256: sha, sizeBytes: o.sizeBytes,
  }));
  let added = 0;
  db.transaction(() => {
    if (writer.write(s)) added = 1;
    writer.finish(o.time.basis);
  })();
  return { status: added ? 'ingested' : 'duplicate', records: added, endpoint, time: o.time };
}

/** The page's text; a page is a few hundred kB (etcd 3.5: about 150 kB), so a file over 64 MiB is not one. */
export function readMetricsPage(path: string, sizeBytes: number): string {
  if (sizeBytes > 64 * 1024 * 1024) throw new InputError(`${path}: ${sizeBytes} bytes is too large for a /metrics page (64 MiB at most)`);
  try {
    return decodeUtf8Visible(readFileSync(path)); // a byte that is not UTF-8 as the text \xNN (ingest/lines.ts)
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
