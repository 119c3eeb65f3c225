// The carver's working set, kept in a private scratch SQLite database (a temporary file that SQLite
// deletes on close) instead of the heap. A 2.1 GB snapshot compacted at its last revision (the seed's
// situation) holds millions of stale rows in its free pages; held as objects they took more than
// 4 GB of heap and the process died (bench/RESULTS-carve.md). Here memory stays flat: rows are staged
// on disk, one copy per revision is chosen with a window query, and the cross-checks below run as
// SQL over indexed tables. Never touches the user's store; the caller copies the kept rows.
import Database from 'better-sqlite3';
import type { LiveRevisions } from './live-revisions.js';
import type { CarvedRow, RecoveredRevision } from './carve-page.js';

// The cross-checks: a row that passed the page checks could still come from a stale page with a
// flipped bit in its key. etcd's history has redundancy the rows must agree with:
//   - compaction at C deletes rows <= C except each key's latest row <= C, so a recovered row must
//     be <= C, not live, and before its key's first live row;
//   - a put on the same create_revision chain as the key's first live row has a smaller version, and
//     no more versions between them than revisions (Δversion <= Δrevision);
//   - a put on any other chain (or of a key with no live row) needs a recovered tombstone of the same
//     key after it (before the live chain's creation); a tombstone needs a recovered put before it;
//   - puts of one key and chain rise in version no faster than in revision;
//   - where the row at a put's create_revision was recovered, it is that key's version-1 put;
//   - a txn numbers its changes 0..n-1 (sub) and never touches a key twice, so sub s > 0 needs the
//     row (main, s-1) recovered or live, and one main never holds one key twice.
// A row failing any of these is dropped (counted as inconsistent), never guessed at.

const STAGE_COLS = ['main', 'sub', 'fp', 'tombstone', 'key', 'create_rev', 'mod_rev', 'version', 'value_size', 'lease', 'page_id'] as const;
const ROWS_PER_INSERT = 64;

export interface CarveCounts {
  conflicts: number;
  inconsistent: number;
  recovered: number;
  duplicates: number;
  /** Distinct recovered main revisions in [first, last] that no live row has. */
  recoveredMainsIn(first: number, last: number): number;
}

export class CarveStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private pending: (string | number | null)[] = [];

  constructor() {
    this.db = new Database('');
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('cache_size = -16384');
    this.db.exec(`CREATE TABLE staged (${STAGE_COLS.join(', ')})`);
    this.insert = this.db.prepare(insertStagedSql(ROWS_PER_INSERT));
    this.db.exec('BEGIN');
  }

  /** One carved copy of a revision the live tree does not hold. */
  stage(r: CarvedRow): void {
    this.pending.push(r.main, r.sub, r.fingerprint, r.tombstone ? 1 : 0, r.key, r.createRevision, r.modRevision, r.version,
      r.valueSize, r.lease, r.pageId);
    if (this.pending.length === STAGE_COLS.length * ROWS_PER_INSERT) {
      this.insert.run(this.pending);
      this.pending = [];
    }
  }

  /**
   * Chooses one copy per revision and keeps the rows consistent with the live tree and each other
   * (the rules above). `bound`: the compaction revision; null keeps nothing.
   */
  resolve(live: LiveRevisions, bound: number | null): CarveCounts {
    const db = this.db;
    if (this.pending.length > 0) {
      db.prepare(insertStagedSql(this.pending.length / STAGE_COLS.length)).run(this.pending);
      this.pending = [];
    }
    db.function('live_has', { deterministic: true }, (main, sub) => (live.has(Number(main), Number(sub)) ? 1 : 0));
    db.function('live_has_main', { deterministic: true }, (main) => (live.hasMain(Number(main)) ? 1 : 0));
    db.exec('CREATE TABLE first_live (key PRIMARY KEY, main, tombstone, create_rev, version) WITHOUT ROWID');
    const firstLive = db.prepare('INSERT INTO first_live VALUES (?,?,?,?,?)');
    for (const [key, f] of live.firstByKey) firstLive.run(key, f.main, f.tombstone ? 1 : 0, f.createRevision, f.version);
    db.exec(CHOOSE_SQL);
    db.exec(okSql(bound));
    db.exec(CHECK_SQL);
    db.exec('COMMIT');
    const one = <T>(sql: string): T => db.prepare(sql).get() as T;
    const chosen = one<{ n: number }>('SELECT count(*) AS n FROM chosen').n;
    const kept = one<{ n: number; dup: number | null }>('SELECT count(*) AS n, sum(copies - 1) AS dup FROM kept');
    return {
      conflicts: one<{ n: number }>('SELECT count(*) AS n FROM conflicts').n,
      inconsistent: chosen - kept.n,
      recovered: kept.n,
      duplicates: kept.dup ?? 0,
      recoveredMainsIn: (first, last) => one<{ n: number }>(
        `SELECT count(DISTINCT main) AS n FROM kept WHERE main BETWEEN ${Number(first)} AND ${Number(last)} AND NOT live_has_main(main)`,
      ).n,
    };
  }

  /** The kept rows in revision order (after resolve). */
  *recovered(): IterableIterator<RecoveredRevision> {
    const rows = this.db.prepare(`SELECT main, sub, tombstone, key, create_rev, mod_rev, version, value_size, lease, page_id, fp, copies
      FROM kept ORDER BY main, sub`).raw().iterate() as IterableIterator<(string | number | null)[]>;
    for (const r of rows) {
      yield {
        main: r[0] as number, sub: r[1] as number, tombstone: r[2] === 1, key: r[3] as string, createRevision: r[4] as number,
        modRevision: r[5] as number, version: r[6] as number, valueSize: r[7] as number, lease: r[8] as string | null,
        pageId: r[9] as number, fingerprint: r[10] as number, copies: r[11] as number,
      };
    }
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.close();
  }
}

function insertStagedSql(rows: number): string {
  const one = `(${STAGE_COLS.map(() => '?').join(',')})`;
  return `INSERT INTO staged VALUES ${Array.from({ length: rows }, () => one).join(',')}`;
}

// One row per (main, sub): the copy most copies agree with; a tie between different bytes is a conflict
// and the revision is dropped.
const CHOOSE_SQL = `
CREATE TABLE variants AS
  SELECT main, sub, fp, count(*) AS copies, min(rowid) AS rid FROM staged GROUP BY main, sub, fp;
CREATE TABLE ranked AS
  SELECT main, sub, copies, rid,
         row_number() OVER w AS rn, lead(copies) OVER w AS next_copies
  FROM variants WINDOW w AS (PARTITION BY main, sub ORDER BY copies DESC);
CREATE TABLE conflicts AS SELECT main, sub FROM ranked WHERE rn = 1 AND next_copies = copies;
CREATE TABLE chosen AS
  SELECT s.main, s.sub, s.fp, s.tombstone, s.key, s.create_rev, s.mod_rev, s.version, s.value_size, s.lease, s.page_id, r.copies
  FROM ranked r JOIN staged s ON s.rowid = r.rid
  WHERE r.rn = 1 AND (r.next_copies IS NULL OR r.next_copies < r.copies);
DROP TABLE variants; DROP TABLE ranked; DROP TABLE staged;
`;

// Rows that can be compacted history at all: at or below the compaction revision, and before their
// key's first live row, agreeing with it.
function okSql(bound: number | null): string {
  const b = bound === null ? 'NULL' : String(Number(bound));
  return `
CREATE TABLE ok AS
  SELECT c.* FROM chosen c LEFT JOIN first_live f ON f.key = c.key
  WHERE ${b} IS NOT NULL AND c.main <= ${b} AND (f.key IS NULL OR (c.main < f.main AND CASE
    WHEN c.tombstone THEN f.tombstone OR f.create_rev > c.main
    WHEN NOT f.tombstone AND c.create_rev = f.create_rev THEN c.version < f.version AND f.version - c.version <= f.main - c.main
    ELSE f.tombstone OR c.create_rev < f.create_rev END));
CREATE INDEX ok_main ON ok(main, sub);
CREATE INDEX ok_main_key ON ok(main, key);
`;
}

// The cross-checks among the rows themselves (version chains, anchors at create_revision, a txn's
// subs and keys), then the support rule (a put off the live chain needs a later tombstone), then the rows kept.
const CHECK_SQL = `
CREATE TABLE chain_steps AS
  SELECT rowid AS id, main, version,
         lag(main) OVER w AS pmain, lag(version) OVER w AS pversion,
         lead(main) OVER w AS nmain, lead(version) OVER w AS nversion
  FROM ok WHERE NOT tombstone WINDOW w AS (PARTITION BY key, create_rev ORDER BY main);
CREATE TABLE bad (id INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO bad SELECT id FROM chain_steps
  WHERE (pmain IS NOT NULL AND (version <= pversion OR version - pversion > main - pmain))
     OR (nmain IS NOT NULL AND (nversion <= version OR nversion - version > nmain - main));
INSERT OR IGNORE INTO bad SELECT p.rowid FROM ok p
  WHERE NOT p.tombstone
    AND EXISTS (SELECT 1 FROM ok a WHERE a.main = p.create_rev)
    AND NOT EXISTS (SELECT 1 FROM ok a WHERE a.main = p.create_rev AND NOT a.tombstone AND a.key = p.key
                    AND a.version = 1 AND a.create_rev = p.create_rev);
INSERT OR IGNORE INTO bad SELECT r.rowid FROM ok r
  WHERE (SELECT count(*) FROM ok x WHERE x.main = r.main AND x.key = r.key) > 1
     OR (r.sub > 0 AND NOT EXISTS (SELECT 1 FROM ok x WHERE x.main = r.main AND x.sub = r.sub - 1)
         AND NOT live_has(r.main, r.sub - 1));
CREATE TABLE stage AS SELECT * FROM ok WHERE rowid NOT IN (SELECT id FROM bad);
CREATE INDEX stage_key ON stage(key, tombstone, main);
CREATE TABLE kept AS
  SELECT s.* FROM stage s LEFT JOIN first_live f ON f.key = s.key
  WHERE CASE
    WHEN s.tombstone THEN EXISTS (SELECT 1 FROM stage p WHERE p.key = s.key AND NOT p.tombstone AND p.main < s.main)
    WHEN f.key IS NOT NULL AND NOT f.tombstone AND f.create_rev = s.create_rev THEN 1
    ELSE (SELECT min(t.main) FROM stage t WHERE t.key = s.key AND t.tombstone AND t.main > s.main)
         < (CASE WHEN f.key IS NULL THEN 9e18 WHEN f.tombstone THEN f.main ELSE f.create_rev END)
  END;
`;
