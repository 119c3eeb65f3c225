import { openStore } from '../store/open.js';
import { renderTable, isoOrDash } from './format.js';

interface SourceRow {
  id: number; path: string; kind: string; member: string | null; size_bytes: number; ingested_at: string;
  records: number; issues: number; first_ts_ms: number | null; last_ts_ms: number | null; time_bases: string; sha256: string;
}

export async function runSources(opts: { db: string; json?: boolean }): Promise<void> {
  const db = openStore(opts.db, { readonly: true });
  const rows = db.prepare('SELECT * FROM sources ORDER BY id').all() as SourceRow[];
  db.close();
  if (opts.json) {
    const out = rows.map((r) => ({
      id: r.id, path: r.path, kind: r.kind, member: r.member, sizeBytes: r.size_bytes, sha256: r.sha256,
      ingestedAt: r.ingested_at, records: r.records, skippedLines: r.issues,
      firstAt: r.first_ts_ms === null ? null : new Date(r.first_ts_ms).toISOString(),
      lastAt: r.last_ts_ms === null ? null : new Date(r.last_ts_ms).toISOString(),
      timeBases: r.time_bases ? r.time_bases.split(',') : [],
    }));
    process.stdout.write(`${JSON.stringify({ schemaVersion: 1, sources: out }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${renderTable(
    ['id', 'path', 'kind', 'member', 'records', 'skipped', 'first (UTC)', 'last (UTC)', 'time basis'],
    rows.map((r) => [r.id, r.path, r.kind, r.member, r.records, r.issues, isoOrDash(r.first_ts_ms), isoOrDash(r.last_ts_ms),
      r.time_bases]),
  )}\n`);
}
