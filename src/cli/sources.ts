// sources: what has been ingested (ids, paths, kinds, times); `sources rm <id|path>…` forgets sources and
// every row they produced, so an input can be read again (with the right --tz, say).
import { openStore } from '../store/open.js';
import { forgetSources } from '../store/write.js';
import { assignClusters } from '../analyze/clusters.js';
import { loadIntegrity } from '../analyze/snapshot-integrity.js';
import { isoInZone, isValidZone } from '../units/time.js';
import { UsageError } from '../errors.js';
import { renderTable, isoOrDash, safeJson, safeLine } from './format.js';

interface SourceRow {
  id: number; path: string; kind: string; member: string | null; size_bytes: number; ingested_at: string;
  records: number; issues: number; first_ts_ms: number | null; last_ts_ms: number | null; time_bases: string; sha256: string;
  continues?: number | null; first_line?: number;
  /** Issue 12: the cluster's name (NULL: none known, or tied to none) and how it was told. */
  cluster_name?: string | null; cluster_basis?: string | null;
}

export interface SourcesCliOptions {
  db: string;
  json?: boolean;
  /** Show times in this zone (IANA name or ±hh:mm); UTC by default. */
  tz?: string;
}

export async function runSources(args: string[], opts: SourcesCliOptions): Promise<void> {
  if (opts.tz && !isValidZone(opts.tz)) throw new UsageError(`--tz ${opts.tz}: not a time zone (try Asia/Shanghai or +08:00)`);
  const [action, ...targets] = args;
  if (action === 'rm') return removeSources(targets, opts);
  if (action !== undefined) throw new UsageError(`sources ${action}: expected no argument (list) or rm <id|path>…`);
  listSources(opts);
}

function removeSources(targets: string[], opts: SourcesCliOptions): void {
  if (targets.length === 0) throw new UsageError('sources rm: name the sources to forget, by id or path (see `sources`)');
  const db = openStore(opts.db);
  try {
    const ids: number[] = [];
    for (const t of targets) {
      const rows = (/^\d+$/.test(t)
        ? db.prepare('SELECT id FROM sources WHERE id = ?').all(Number(t))
        : db.prepare('SELECT id FROM sources WHERE path = ? ORDER BY id').all(t)) as { id: number }[];
      if (rows.length === 0) throw new UsageError(`sources rm ${t}: no such source (see \`sources\` for ids and paths)`);
      ids.push(...rows.map((r) => r.id));
    }
    const paths = new Map((db.prepare('SELECT id, path FROM sources').all() as { id: number; path: string }[]).map((r) => [r.id, r.path]));
    const removed = forgetSources(db, ids);
    assignClusters(db);
    for (const id of removed.ids) {
      process.stdout.write(safeLine(`forgot source #${id}: ${paths.get(id)}${ids.includes(id) ? '' : ' (it continued a source removed)'}\n`));
    }
    process.stdout.write(`${removed.rows} rows removed; the inputs can be ingested again\n`);
  } finally {
    db.close();
  }
}

function listSources(opts: SourcesCliOptions): void {
  const tz = opts.tz ?? null;
  const at = (ms: number | null): string => (ms === null ? '-' : isoInZone(ms, tz));
  const db = openStore(opts.db, { readonly: true });
  const rows = db.prepare('SELECT s.*, c.name AS cluster_name FROM sources s LEFT JOIN clusters c ON c.id = s.cluster ORDER BY s.id').all() as SourceRow[];
  const clusterOf = (r: SourceRow): string => r.cluster_name ?? (r.cluster_basis === 'unassigned' ? 'unassigned' : '-');
  // A snapshot whose trailer does not match or whose keys contradict themselves: every figure from it is unverified.
  const integrity = new Map(rows.filter((r) => r.kind === 'etcd-snapshot').map((r) => [r.id, loadIntegrity(db, r.id, 3)] as const));
  const kindOf = (r: SourceRow): string => (integrity.get(r.id)?.completeness === 'unverified' ? `${r.kind} (unverified)` : r.kind);
  db.close();
  if (opts.json) {
    const out = rows.map((r) => ({
      id: r.id, path: r.path, kind: r.kind, member: r.member, sizeBytes: r.size_bytes, sha256: r.sha256,
      ingestedAt: r.ingested_at, records: r.records, skippedLines: r.issues,
      firstAt: r.first_ts_ms === null ? null : at(r.first_ts_ms),
      lastAt: r.last_ts_ms === null ? null : at(r.last_ts_ms),
      timeBases: r.time_bases ? r.time_bases.split(',') : [],
      ...(r.continues ? { continues: r.continues, firstLine: r.first_line } : {}),
      cluster: r.cluster_name ?? null, clusterBasis: r.cluster_basis ?? null,
      ...(integrity.has(r.id) ? { figures: integrity.get(r.id)!.completeness, ...(integrity.get(r.id)!.why ? { unverifiedBecause: integrity.get(r.id)!.why } : {}) } : {}),
    }));
    process.stdout.write(`${safeJson({ schemaVersion: 1, sources: out })}\n`);
    return;
  }
  const zone = tz ?? 'UTC';
  if (tz) process.stdout.write(safeLine(`times in ${tz}\n`));
  process.stdout.write(`${renderTable(
    ['id', 'path', 'kind', 'cluster', 'member', 'records', 'skipped', `first (${zone})`, `last (${zone})`, 'time basis'],
    rows.map((r) => [r.id, r.continues ? `${r.path} (from line ${r.first_line}, continues #${r.continues})` : r.path, kindOf(r), clusterOf(r), r.member,
      r.records, r.issues, tz ? at(r.first_ts_ms) : isoOrDash(r.first_ts_ms), tz ? at(r.last_ts_ms) : isoOrDash(r.last_ts_ms),
      r.time_bases]),
  )}\n`);
}
