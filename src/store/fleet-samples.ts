// Writing live, Prometheus and /metrics-page samples (issue 15, migration 17). Each reading has a natural key
// (format family, cluster, member, time): INSERT OR IGNORE makes a re-import of an overlapping range, or the same
// page ingested twice, add nothing. A source row per cluster per run; a run that added nothing leaves no source.
import { createHash, randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';
import type { FleetSample, SourceKind } from '../model.js';
import { insertSource } from './write.js';
import { RollupFolder } from './status-rollup.js';

const COLS = ['line', 'seq', 'ts_ms', 'time_basis', 'format', 'endpoint', 'member_id', 'cluster_id', 'version', 'db_size_bytes',
  'db_size_approx', 'db_size_in_use_bytes', 'revision', 'is_leader', 'errors', 'alarms', 'db_size_quota_bytes',
  'compact_revision', 'keys_total', 'puts_total', 'natural_key'] as const;

/** The natural key: a Prometheus import and a saved page of the same member at the same ms are one reading. */
export function naturalKey(family: string, s: FleetSample): string {
  return `${family}|${s.cluster ?? ''}|${s.endpoint}|${s.tsMs}`;
}

export interface FleetSourceSpec {
  kind: SourceKind;
  /** Shown in `sources`: `prometheus http://prom:9090 cluster=a`. */
  path: string;
  /** Stored as the source's cluster_option (the user's or the labels' name); null: told from the ids in the rows. */
  cluster: string | null;
  member?: string | null;
  /** Natural-key family: 'prometheus' | 'collect' | 'metrics-page'. */
  family: string;
  /** The source's content hash when it has content (a saved page); else one is made per run. */
  sha256?: string;
  sizeBytes?: number;
}

/** Rows for one run, sources opened lazily per cluster. The caller holds the transaction. */
export class FleetSampleWriter {
  private readonly sources = new Map<string, { id: number; cluster: string | null; added: number; line: number; first: number | null; last: number | null }>();
  private readonly stmts = new Map<number, Statement>();
  private readonly runId = randomUUID();
  /** Each new reading folded into the status rollup as it is written (migration 19). */
  private readonly rollup = new RollupFolder();

  constructor(private readonly db: Db, private readonly spec: (cluster: string | null) => FleetSourceSpec) {}

  /** Returns whether the row was new. */
  write(s: FleetSample): boolean {
    // One source per path: a Prometheus import names one per cluster; a collect run is one source whatever
    // the clusters (a member down from the start has no cluster id yet: the ids in the rows decide).
    const sp = this.spec(s.cluster);
    const key = sp.path;
    let src = this.sources.get(key);
    if (!src) {
      const sha = sp.sha256 ?? createHash('sha256').update(`${sp.family}|${sp.path}|${this.runId}`).digest('hex');
      const id = insertSource(this.db, { path: sp.path, sha256: sha, kind: sp.kind, member: sp.member ?? null, sizeBytes: sp.sizeBytes ?? 0 });
      if (sp.cluster !== null) this.db.prepare('UPDATE sources SET cluster_option = ? WHERE id = ?').run(sp.cluster, id);
      src = { id, cluster: sp.cluster ?? s.cluster, added: 0, line: 0, first: null, last: null };
      this.sources.set(key, src);
    }
    let st = this.stmts.get(src.id);
    if (!st) {
      st = this.db.prepare(`INSERT OR IGNORE INTO status_samples (source_id,${COLS.join(',')}) VALUES (${src.id},${COLS.map(() => '?').join(',')})`);
      this.stmts.set(src.id, st);
    }
    src.line++;
    const r = st.run(src.line, 0, s.tsMs, s.basis, s.format, s.endpoint, s.memberId, s.clusterId, s.version, s.dbSizeBytes, 0,
      s.dbSizeInUseBytes, s.revision, s.isLeader === null ? null : s.isLeader ? 1 : 0, JSON.stringify(s.errors),
      JSON.stringify(s.alarms), s.quotaBytes, s.compactRevision, s.keysTotal, s.putsTotal, naturalKey(sp.family, s));
    if (r.changes === 0) return false;
    this.rollup.add(this.db, { id: Number(r.lastInsertRowid), src: src.id, line: src.line, ts: s.tsMs, basis: s.basis, format: s.format, endpoint: s.endpoint,
      memberId: s.memberId, clusterId: s.clusterId, cluster: null, phys: s.dbSizeBytes, approx: 0, inUse: s.dbSizeInUseBytes, rev: s.revision,
      compact: s.compactRevision, quota: s.quotaBytes, alarms: JSON.stringify(s.alarms), errors: JSON.stringify(s.errors),
      leader: s.isLeader === null ? null : s.isLeader ? 1 : 0, natural: 1 });
    src.added++;
    src.first = src.first === null ? s.tsMs : Math.min(src.first, s.tsMs);
    src.last = src.last === null ? s.tsMs : Math.max(src.last, s.tsMs);
    return true;
  }

  /** Writes each source's totals (inside the caller's transaction: collect commits them with every poll). */
  flush(basis = 'explicit'): void {
    this.rollup.flush(this.db);
    for (const s of this.sources.values()) {
      this.db.prepare('UPDATE sources SET records=?, first_ts_ms=?, last_ts_ms=?, time_bases=? WHERE id=?').run(s.added, s.first, s.last, basis, s.id);
    }
  }

  /** Sources that added nothing are removed; the others get their totals. Returns rows added per cluster. */
  finish(basis = 'explicit'): { cluster: string | null; sourceId: number; added: number }[] {
    this.flush(basis);
    const out: { cluster: string | null; sourceId: number; added: number }[] = [];
    for (const s of this.sources.values()) {
      if (s.added === 0) {
        // No reading carries its id (an INSERT OR IGNORE that changed nothing wrote nothing): no DELETE over
        // status_samples, which has no source_id index (a 200-cluster re-import scanned 5.2 M rows 200 times).
        this.db.prepare('DELETE FROM sources WHERE id = ?').run(s.id);
        continue;
      }
      out.push({ cluster: s.cluster, sourceId: s.id, added: s.added });
    }
    return out;
  }
}
