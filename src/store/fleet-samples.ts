// Writing live, Prometheus and /metrics-page samples (issue 15, migrations 17 and 20). Each reading has a natural
// key: its time and its series (format family, cluster, member: `prometheus|c001|10.0.0.2:2379`, a row of
// status_series). INSERT OR IGNORE on that key makes a re-import of an overlapping range, or the same page ingested
// twice, add nothing. A source row per cluster per run; a run that added nothing leaves no source.
import { createHash, randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';
import type { FleetSample, SourceKind } from '../model.js';
import { insertSource } from './write.js';
import { RollupFolder, type RawReading } from './status-rollup.js';

/** The series part of the natural key: a Prometheus import and a saved page of the same member are two series. */
export function seriesKey(family: string, s: Pick<FleetSample, 'cluster' | 'endpoint'>): string {
  return `${family}|${s.cluster ?? ''}|${s.endpoint}`;
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

interface OpenSource {
  /** 0 until the run's first new reading of it: a re-import that adds nothing makes no source (and deletes none). */
  id: number;
  spec: FleetSourceSpec;
  cluster: string | null;
  family: string;
  added: number;
  line: number;
  first: number | null;
  last: number | null;
}

// The columns every reading binds. seq, db_size_approx and (when empty, what a Prometheus reading's always are)
// errors and alarms are constants in the SQL, and so are the source, format and time basis of a statement: a
// bound parameter costs about 0.07 µs, a 22-column row 3 µs in all (bench/RESULTS-fleet.md).
const BOUND = ['line', 'ts_ms', 'endpoint', 'member_id', 'cluster_id', 'version', 'db_size_bytes', 'db_size_in_use_bytes', 'revision',
  'is_leader', 'db_size_quota_bytes', 'compact_revision', 'keys_total', 'puts_total', 'natural_series'] as const;
const sqlText = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** Rows for one run, sources opened lazily per cluster. The caller holds the transaction. */
export class FleetSampleWriter {
  private readonly sources = new Map<string, OpenSource>();
  /** The spec's answer per reading cluster (a spec is the same for the same cluster): no path built per reading. */
  private readonly byCluster = new Map<string | null, OpenSource>();
  private readonly stmts = new Map<string, Statement>();
  private lastStmt: { srcId: number; format: string; basis: string; plain: boolean; st: Statement } | null = null;
  private exists: Statement | null = null;
  /** Series ids of this transaction (cleared by flush(): a rolled-back transaction takes its new series with it). */
  private series = new Map<string, number>();
  private lastSeries: { src: OpenSource; cluster: string | null; endpoint: string; id: number } | null = null;
  private readonly runId = randomUUID();
  /** Each new reading folded into the status rollup as it is written (migration 19). */
  private readonly rollup = new RollupFolder();
  /** One reading as the rollup reads it, refilled for every row (the folder keeps no reference to it). */
  private readonly raw: RawReading = {
    id: 0, src: 0, line: 0, ts: 0, basis: null, format: '', endpoint: '', memberId: null, clusterId: null, cluster: null, phys: null,
    approx: 0, inUse: null, rev: null, compact: null, quota: null, alarms: '[]', errors: '[]', leader: null, natural: 1,
  };

  constructor(private readonly db: Db, private readonly spec: (cluster: string | null) => FleetSourceSpec) {}

  /** Returns whether the row was new. */
  write(s: FleetSample): boolean {
    const src = this.sourceOf(s.cluster);
    const seriesId = this.seriesOf(src, s);
    const errors = s.errors.length === 0 ? '[]' : JSON.stringify(s.errors);
    const alarms = s.alarms.length === 0 ? '[]' : JSON.stringify(s.alarms);
    const leader = s.isLeader === null ? null : s.isLeader ? 1 : 0;
    src.line++;
    if (src.id === 0) {
      // Deleting a source that added nothing costs a scan of every reading (the foreign key from status_samples has no
      // index: 200 scans of 5.2 M rows on a 200-cluster re-import), so a source is made at its first new reading.
      this.exists ??= this.db.prepare('SELECT 1 FROM status_samples WHERE ts_ms = ? AND natural_series = ?');
      if (this.exists.get(s.tsMs, seriesId) !== undefined) return false;
      this.create(src);
    }
    const st = this.statement(src.id, s.format, s.basis, errors, alarms);
    const r = errors === '[]' && alarms === '[]'
      ? st.run(src.line, s.tsMs, s.endpoint, s.memberId, s.clusterId, s.version, s.dbSizeBytes, s.dbSizeInUseBytes, s.revision, leader,
        s.quotaBytes, s.compactRevision, s.keysTotal, s.putsTotal, seriesId)
      : st.run(src.line, s.tsMs, s.endpoint, s.memberId, s.clusterId, s.version, s.dbSizeBytes, s.dbSizeInUseBytes, s.revision, leader,
        s.quotaBytes, s.compactRevision, s.keysTotal, s.putsTotal, seriesId, errors, alarms);
    if (r.changes === 0) return false;
    const raw = this.raw;
    raw.id = Number(r.lastInsertRowid);
    raw.src = src.id;
    raw.line = src.line;
    raw.ts = s.tsMs;
    raw.basis = s.basis;
    raw.format = s.format;
    raw.endpoint = s.endpoint;
    raw.memberId = s.memberId;
    raw.clusterId = s.clusterId;
    raw.phys = s.dbSizeBytes;
    raw.inUse = s.dbSizeInUseBytes;
    raw.rev = s.revision;
    raw.compact = s.compactRevision;
    raw.quota = s.quotaBytes;
    raw.alarms = alarms;
    raw.errors = errors;
    raw.leader = leader;
    this.rollup.add(this.db, raw);
    src.added++;
    src.first = src.first === null ? s.tsMs : Math.min(src.first, s.tsMs);
    src.last = src.last === null ? s.tsMs : Math.max(src.last, s.tsMs);
    return true;
  }

  /** Writes each source's totals (inside the caller's transaction: collect commits them with every poll). */
  flush(basis = 'explicit'): void {
    this.rollup.flush(this.db);
    for (const s of this.sources.values()) {
      if (s.id === 0) continue;
      this.db.prepare('UPDATE sources SET records=?, first_ts_ms=?, last_ts_ms=?, time_bases=? WHERE id=?').run(s.added, s.first, s.last, basis, s.id);
    }
    this.series = new Map();
    this.lastSeries = null;
  }

  /** Sources that added nothing are removed; the others get their totals. Returns rows added per cluster. */
  finish(basis = 'explicit'): { cluster: string | null; sourceId: number; added: number }[] {
    this.flush(basis);
    const out: { cluster: string | null; sourceId: number; added: number }[] = [];
    for (const s of this.sources.values()) {
      if (s.id === 0) continue;
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

  /**
   * One source per path: a Prometheus import names one per cluster; a collect run is one source whatever the
   * clusters (a member down from the start has no cluster id yet: the ids in the rows decide).
   */
  private sourceOf(cluster: string | null): OpenSource {
    const known = this.byCluster.get(cluster);
    if (known) return known;
    const sp = this.spec(cluster);
    let src = this.sources.get(sp.path);
    if (!src) {
      src = { id: 0, spec: sp, cluster: sp.cluster ?? cluster, family: sp.family, added: 0, line: 0, first: null, last: null };
      this.sources.set(sp.path, src);
    }
    this.byCluster.set(cluster, src);
    return src;
  }

  private create(src: OpenSource): void {
    const sp = src.spec;
    const sha = sp.sha256 ?? createHash('sha256').update(`${sp.family}|${sp.path}|${this.runId}`).digest('hex');
    src.id = insertSource(this.db, { path: sp.path, sha256: sha, kind: sp.kind, member: sp.member ?? null, sizeBytes: sp.sizeBytes ?? 0 });
    if (sp.cluster !== null) this.db.prepare('UPDATE sources SET cluster_option = ? WHERE id = ?').run(sp.cluster, src.id);
    this.rollup.markFresh(src.id);
  }

  /** The reading's series id (readings come member by member: the last one's is asked first). */
  private seriesOf(src: OpenSource, s: FleetSample): number {
    const l = this.lastSeries;
    if (l !== null && l.src === src && l.cluster === s.cluster && l.endpoint === s.endpoint) return l.id;
    const key = seriesKey(src.family, s);
    let id = this.series.get(key);
    if (id === undefined) {
      this.db.prepare('INSERT OR IGNORE INTO status_series (key) VALUES (?)').run(key);
      id = (this.db.prepare('SELECT id FROM status_series WHERE key = ?').get(key) as { id: number }).id;
      this.series.set(key, id);
    }
    this.lastSeries = { src, cluster: s.cluster, endpoint: s.endpoint, id };
    return id;
  }

  /** The INSERT for a source, format and time basis; errors and alarms bound only when one is not empty. */
  private statement(srcId: number, format: string, basis: string, errors: string, alarms: string): Statement {
    const plain = errors === '[]' && alarms === '[]';
    const l = this.lastStmt;
    if (l !== null && l.srcId === srcId && l.format === format && l.basis === basis && l.plain === plain) return l.st;
    const k = `${srcId}\u0000${format}\u0000${basis}\u0000${plain ? 1 : 0}`;
    let st = this.stmts.get(k);
    if (!st) {
      const cols = ['source_id', 'seq', 'db_size_approx', 'format', 'time_basis', ...BOUND, 'errors', 'alarms'];
      const vals = [String(srcId), '0', '0', sqlText(format), sqlText(basis), ...BOUND.map(() => '?'), plain ? "'[]'" : '?', plain ? "'[]'" : '?'];
      st = this.db.prepare(`INSERT OR IGNORE INTO status_samples (${cols.join(',')}) VALUES (${vals.join(',')})`);
      this.stmts.set(k, st);
    }
    this.lastStmt = { srcId, format, basis, plain, st };
    return st;
  }
}
