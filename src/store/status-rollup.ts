// The hourly rollup of status readings (migration 19, issue 15): per source, member (endpoint, member id, cluster
// id), time basis, humanized-or-exact and UTC hour, the count, first and last time, min/max of physical size, in-use
// size, revision, compact revision and quota, and three real readings kept whole: the lowest in-use size (lo), the
// highest (hi) and the last (z). `report --fleet` reads this instead of every reading: 200 clusters × 3 members ×
// 30 days at a 5-minute step is 5.2 M readings but 432 k rollup rows, thinned again per member at report time.
//
// Maintained by catchUpStatusRollup(): every reading with an id above the watermark is folded in (in JS, one
// upsert per touched row: a per-reading SQL trigger made a 518 k-reading import 8.6× slower). It runs after every
// ingest, collect, Prometheus import and `sources rm` (store/clusters.ts writeClusterAssignment, which all of
// them call); readings not yet folded in are folded in memory by readStatusRollup(), so the rollup read is exact
// whatever wrote the store. Readings are only ever deleted with their source; a trigger on `sources` drops the
// source's rollup rows and lowers the watermark (SQLite reuses the largest rowids once they are deleted).
import type { Db } from './open.js';

/** One real reading kept whole (the lowest or highest in use in its bucket, or its last). */
export interface RollupReading {
  ts: number;
  line: number;
  phys: number;
  inUse: number | null;
  rev: number | null;
  /** Source of the reading (a bucket merged at report time can span sources). */
  src: number;
}

export interface RollupLast extends RollupReading {
  compact: number | null;
  quota: number | null;
  alarms: string;
  leader: number | null;
}

export interface RollupRow {
  src: number;
  endpoint: string;
  memberId: string;
  clusterId: string;
  basis: string;
  approx: number;
  /** Bucket width in ms (the store keeps an hour and a day; wider once merged at report time). */
  width: number;
  /** The bucket: floor(ts / width). */
  bucket: number;
  cluster: number | null;
  format: string;
  n: number;
  firstTs: number;
  lastTs: number;
  minId: number;
  maxId: number;
  sizedN: number;
  physMin: number | null;
  physMax: number | null;
  usedMin: number | null;
  usedMax: number | null;
  revMin: number | null;
  revMax: number | null;
  compactN: number;
  compactMin: number | null;
  compactMax: number | null;
  /** Earliest reading whose compact revision is compactMax. */
  compactMaxTs: number | null;
  quotaMax: number | null;
  nospaceN: number;
  lo: RollupReading | null;
  hi: RollupReading | null;
  z: RollupLast | null;
  errN: number;
  errFirstTs: number | null;
  errLastTs: number | null;
  errMin: string | null;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The widths the store keeps. */
export const ROLLUP_WIDTHS = [HOUR_MS, DAY_MS] as const;

/** A status_samples row as the rollup reads it. */
export interface RawReading {
  id: number;
  src: number;
  line: number;
  ts: number;
  basis: string | null;
  format: string;
  endpoint: string;
  memberId: string | null;
  clusterId: string | null;
  cluster: number | null;
  phys: number | null;
  approx: number;
  inUse: number | null;
  rev: number | null;
  compact: number | null;
  quota: number | null;
  alarms: string;
  errors: string;
  leader: number | null;
  natural: number;
}

export const RAW_COLUMNS = `s.id, s.source_id AS src, s.line, s.ts_ms AS ts, s.time_basis AS basis, s.format, s.endpoint, s.member_id AS memberId,
  s.cluster_id AS clusterId, s.cluster, s.db_size_bytes AS phys, s.db_size_approx AS approx, s.db_size_in_use_bytes AS inUse, s.revision AS rev,
  s.compact_revision AS compact, s.db_size_quota_bytes AS quota, s.alarms, s.errors, s.is_leader AS leader,
  (s.natural_series IS NOT NULL OR s.natural_key IS NOT NULL) AS natural`;

const used = (r: { phys: number; inUse: number | null }): number => r.inUse ?? r.phys;
const lo2 = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const hi2 = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
const lowerOf = <T extends RollupReading>(a: T | null, b: T | null): T | null =>
  !a ? b : !b ? a : used(b) < used(a) || (used(b) === used(a) && b.ts < a.ts) ? b : a;
const higherOf = <T extends RollupReading>(a: T | null, b: T | null): T | null =>
  !a ? b : !b ? a : used(b) > used(a) || (used(b) === used(a) && b.ts < a.ts) ? b : a;
const laterOf = <T extends RollupReading>(a: T | null, b: T | null): T | null =>
  !a ? b : !b ? a : b.ts > a.ts || (b.ts === a.ts && (b.src > a.src || (b.src === a.src && b.line > a.line))) ? b : a;

/** The rollup row of one reading (a bucket of `widthMs`). */
function exemplar(r: RawReading): RollupReading | null {
  return r.phys === null ? null : { ts: r.ts, line: r.line, phys: r.phys, inUse: r.inUse, rev: r.rev, src: r.src };
}

function lastOf(r: RawReading): RollupLast | null {
  return r.phys === null ? null : { ts: r.ts, line: r.line, phys: r.phys, inUse: r.inUse, rev: r.rev, src: r.src, compact: r.compact, quota: r.quota, alarms: r.alarms, leader: r.leader };
}

/** The rollup row of one reading (a bucket of `widthMs`). */
export function rollupOf(r: RawReading, widthMs: number): RollupRow {
  const sized = r.phys !== null;
  const err = !sized && r.errors !== '[]' && r.natural ? 1 : 0;
  return {
    src: r.src, endpoint: r.endpoint, memberId: r.memberId ?? '', clusterId: r.clusterId ?? '', basis: r.basis ?? '', approx: r.approx,
    width: widthMs, bucket: Math.floor(r.ts / widthMs), cluster: r.cluster, format: r.format, n: 1, firstTs: r.ts, lastTs: r.ts, minId: r.id, maxId: r.id,
    sizedN: sized ? 1 : 0, physMin: r.phys, physMax: r.phys, usedMin: sized ? r.inUse ?? r.phys : null, usedMax: sized ? r.inUse ?? r.phys : null,
    revMin: r.rev, revMax: r.rev, compactN: r.compact !== null ? 1 : 0, compactMin: r.compact, compactMax: r.compact,
    compactMaxTs: r.compact !== null ? r.ts : null, quotaMax: r.quota !== null && r.quota > 0 ? r.quota : null,
    nospaceN: r.alarms.includes('NOSPACE') ? 1 : 0, lo: exemplar(r), hi: exemplar(r), z: lastOf(r),
    errN: err, errFirstTs: err ? r.ts : null, errLastTs: err ? r.ts : null, errMin: err ? r.errors : null,
  };
}

/**
 * b merged into a, in place (a widened copy: its exemplars may then be b's objects, so a row merged into is not
 * folded into with addReading afterwards). The same fields as mergeRollup.
 */
function mergeInto(a: RollupRow, b: RollupRow): void {
  const cm = hi2(a.compactMax, b.compactMax);
  a.compactMaxTs = cm === null ? null : lo2(a.compactMax === cm ? a.compactMaxTs : null, b.compactMax === cm ? b.compactMaxTs : null);
  a.compactMax = cm;
  if (b.format < a.format) a.format = b.format;
  a.n += b.n;
  a.firstTs = Math.min(a.firstTs, b.firstTs);
  a.lastTs = Math.max(a.lastTs, b.lastTs);
  a.minId = Math.min(a.minId, b.minId);
  a.maxId = Math.max(a.maxId, b.maxId);
  a.sizedN += b.sizedN;
  a.physMin = lo2(a.physMin, b.physMin);
  a.physMax = hi2(a.physMax, b.physMax);
  a.usedMin = lo2(a.usedMin, b.usedMin);
  a.usedMax = hi2(a.usedMax, b.usedMax);
  a.revMin = lo2(a.revMin, b.revMin);
  a.revMax = hi2(a.revMax, b.revMax);
  a.compactN += b.compactN;
  a.compactMin = lo2(a.compactMin, b.compactMin);
  a.quotaMax = hi2(a.quotaMax, b.quotaMax);
  a.nospaceN += b.nospaceN;
  a.lo = lowerOf(a.lo, b.lo);
  a.hi = higherOf(a.hi, b.hi);
  a.z = laterOf(a.z, b.z);
  a.errN += b.errN;
  a.errFirstTs = lo2(a.errFirstTs, b.errFirstTs);
  a.errLastTs = hi2(a.errLastTs, b.errLastTs);
  if (a.errMin === null || (b.errMin !== null && b.errMin < a.errMin)) a.errMin = b.errMin;
}

/** Two rows of the same bucket as one (order does not matter: every field is a min, max, sum or tie-broken pick). */
export function mergeRollup(a: RollupRow, b: RollupRow): RollupRow {
  const cm = hi2(a.compactMax, b.compactMax);
  const cmTs = cm === null ? null : lo2(a.compactMax === cm ? a.compactMaxTs : null, b.compactMax === cm ? b.compactMaxTs : null);
  return {
    ...a, format: a.format <= b.format ? a.format : b.format, n: a.n + b.n, firstTs: Math.min(a.firstTs, b.firstTs), lastTs: Math.max(a.lastTs, b.lastTs), minId: Math.min(a.minId, b.minId),
    maxId: Math.max(a.maxId, b.maxId), sizedN: a.sizedN + b.sizedN, physMin: lo2(a.physMin, b.physMin), physMax: hi2(a.physMax, b.physMax),
    usedMin: lo2(a.usedMin, b.usedMin), usedMax: hi2(a.usedMax, b.usedMax), revMin: lo2(a.revMin, b.revMin), revMax: hi2(a.revMax, b.revMax),
    compactN: a.compactN + b.compactN, compactMin: lo2(a.compactMin, b.compactMin), compactMax: cm, compactMaxTs: cmTs,
    quotaMax: hi2(a.quotaMax, b.quotaMax), nospaceN: a.nospaceN + b.nospaceN,
    lo: lowerOf(a.lo, b.lo), hi: higherOf(a.hi, b.hi), z: laterOf(a.z, b.z),
    errN: a.errN + b.errN, errFirstTs: lo2(a.errFirstTs, b.errFirstTs), errLastTs: hi2(a.errLastTs, b.errLastTs),
    errMin: a.errMin === null ? b.errMin : b.errMin === null ? a.errMin : a.errMin < b.errMin ? a.errMin : b.errMin,
  };
}

const KEY = ['src', 'endpoint', 'member_id', 'cluster_id', 'basis', 'approx', 'width', 'bucket'] as const;
const COLUMNS = [...KEY, 'cluster', 'format', 'n', 'first_ts', 'last_ts', 'min_id', 'max_id', 'sized_n', 'phys_min', 'phys_max', 'used_min',
  'used_max', 'rev_min', 'rev_max', 'compact_n', 'compact_min', 'compact_max', 'compact_max_ts', 'quota_max', 'nospace_n',
  'lo_ts', 'lo_line', 'lo_phys', 'lo_inuse', 'lo_rev', 'hi_ts', 'hi_line', 'hi_phys', 'hi_inuse', 'hi_rev',
  'z_ts', 'z_line', 'z_phys', 'z_inuse', 'z_rev', 'z_compact', 'z_quota', 'z_alarms', 'z_leader',
  'err_n', 'err_first_ts', 'err_last_ts', 'err_min'] as const;
export const ROLLUP_SELECT = `SELECT ${COLUMNS.join(', ')} FROM status_rollup`;

function toParams(r: RollupRow): unknown[] {
  const ex = (e: RollupReading | null): unknown[] => (e ? [e.ts, e.line, e.phys, e.inUse, e.rev] : [null, null, null, null, null]);
  return [r.src, r.endpoint, r.memberId, r.clusterId, r.basis, r.approx, r.width, r.bucket, r.cluster, r.format, r.n, r.firstTs, r.lastTs, r.minId,
    r.maxId, r.sizedN, r.physMin, r.physMax, r.usedMin, r.usedMax, r.revMin, r.revMax, r.compactN, r.compactMin, r.compactMax, r.compactMaxTs,
    r.quotaMax, r.nospaceN, ...ex(r.lo), ...ex(r.hi), ...ex(r.z), r.z?.compact ?? null, r.z?.quota ?? null, r.z?.alarms ?? null,
    r.z?.leader ?? null, r.errN, r.errFirstTs, r.errLastTs, r.errMin];
}

/** A stored rollup row (columns in COLUMNS order, as `raw()` returns them). */
export function fromStored(v: unknown[]): RollupRow {
  const n = (i: number): number | null => v[i] as number | null;
  const src = v[0] as number;
  const ex = (i: number): RollupReading | null =>
    v[i] === null ? null : { ts: v[i] as number, line: v[i + 1] as number, phys: v[i + 2] as number, inUse: n(i + 3), rev: n(i + 4), src };
  const z = ex(38);
  return {
    src, endpoint: v[1] as string, memberId: v[2] as string, clusterId: v[3] as string, basis: v[4] as string, approx: v[5] as number,
    width: v[6] as number, bucket: v[7] as number, cluster: n(8), format: v[9] as string, n: v[10] as number, firstTs: v[11] as number,
    lastTs: v[12] as number, minId: v[13] as number, maxId: v[14] as number, sizedN: v[15] as number, physMin: n(16), physMax: n(17),
    usedMin: n(18), usedMax: n(19), revMin: n(20), revMax: n(21), compactN: v[22] as number, compactMin: n(23), compactMax: n(24),
    compactMaxTs: n(25), quotaMax: n(26), nospaceN: v[27] as number, lo: ex(28), hi: ex(33),
    z: z && { ...z, compact: n(43), quota: n(44), alarms: (v[45] as string | null) ?? '[]', leader: n(46) },
    errN: v[47] as number, errFirstTs: n(48), errLastTs: n(49), errMin: v[50] as string | null,
  };
}

const keyOf = (r: RollupRow): string =>
  `${r.src}\u0000${r.endpoint}\u0000${r.memberId}\u0000${r.clusterId}\u0000${r.basis}\u0000${r.approx}\u0000${r.width}\u0000${r.bucket}`;

/** Folds one reading into a row of its bucket, in place (no allocation: a backfill folds millions). */
export function addReading(a: RollupRow, r: RawReading): void {
  a.n++;
  if (r.format < a.format) a.format = r.format;
  if (r.ts < a.firstTs) a.firstTs = r.ts;
  if (r.ts > a.lastTs) a.lastTs = r.ts;
  if (r.id < a.minId) a.minId = r.id;
  if (r.id > a.maxId) a.maxId = r.id;
  if (r.rev !== null) {
    a.revMin = lo2(a.revMin, r.rev);
    a.revMax = hi2(a.revMax, r.rev);
  }
  if (r.compact !== null) {
    a.compactN++;
    a.compactMin = lo2(a.compactMin, r.compact);
    if (a.compactMax === null || r.compact > a.compactMax) {
      a.compactMax = r.compact;
      a.compactMaxTs = r.ts;
    } else if (r.compact === a.compactMax && r.ts < a.compactMaxTs!) a.compactMaxTs = r.ts;
  }
  if (r.quota !== null && r.quota > 0) a.quotaMax = hi2(a.quotaMax, r.quota);
  if (r.alarms.includes('NOSPACE')) a.nospaceN++;
  if (r.phys === null) {
    if (r.errors !== '[]' && r.natural) {
      a.errN++;
      a.errFirstTs = lo2(a.errFirstTs, r.ts);
      a.errLastTs = hi2(a.errLastTs, r.ts);
      if (a.errMin === null || r.errors < a.errMin) a.errMin = r.errors;
    }
    return;
  }
  const u = r.inUse ?? r.phys;
  a.sizedN++;
  a.physMin = lo2(a.physMin, r.phys);
  a.physMax = hi2(a.physMax, r.phys);
  a.usedMin = lo2(a.usedMin, u);
  a.usedMax = hi2(a.usedMax, u);
  const set = (e: RollupReading): void => {
    e.ts = r.ts;
    e.line = r.line;
    e.phys = r.phys!;
    e.inUse = r.inUse;
    e.rev = r.rev;
    e.src = r.src;
  };
  if (!a.lo) a.lo = exemplar(r)!;
  else if (u < used(a.lo) || (u === used(a.lo) && r.ts < a.lo.ts)) set(a.lo);
  if (!a.hi) a.hi = exemplar(r)!;
  else if (u > used(a.hi) || (u === used(a.hi) && r.ts < a.hi.ts)) set(a.hi);
  const z = a.z;
  if (!z) a.z = lastOf(r);
  else if (r.ts > z.ts || (r.ts === z.ts && (r.src > z.src || (r.src === z.src && r.line > z.line)))) {
    set(z);
    z.compact = r.compact;
    z.quota = r.quota;
    z.alarms = r.alarms;
    z.leader = r.leader;
  }
}

/**
 * Folds readings into rollup rows of the given widths (same key: merged). Wider rows are merged from the rows of
 * the narrowest width (an hour's rows into its day), not folded reading by reading: half the work per reading.
 */
export function foldReadings(readings: Iterable<RawReading>, widths: readonly number[] = ROLLUP_WIDTHS): Map<string, RollupRow> {
  const base = Math.min(...widths);
  const out = new Map<string, RollupRow>();
  for (const r of readings) foldInto(out, r, [base]);
  return widen(out, widths);
}

/** Adds to rows of one width the rows of each wider width that are multiples of it, merged from them. */
function widen(rows: Map<string, RollupRow>, widths: readonly number[]): Map<string, RollupRow> {
  const wider = widths.filter((w) => w > Math.min(...widths));
  if (wider.length === 0) return rows;
  const out = new Map(rows);
  for (const r of rows.values()) {
    for (const w of wider) {
      const b = Math.floor((r.bucket * r.width) / w);
      const k = `${r.src}\u0000${r.endpoint}\u0000${r.memberId}\u0000${r.clusterId}\u0000${r.basis}\u0000${r.approx}\u0000${w}\u0000${b}`;
      const had = out.get(k);
      // The wider row is a copy (its own exemplar objects) and is merged into in place: no row made per merge.
      if (had) mergeInto(had, r);
      else out.set(k, { ...r, width: w, bucket: b, lo: r.lo && { ...r.lo }, hi: r.hi && { ...r.hi }, z: r.z && { ...r.z } });
    }
  }
  return out;
}

/** Folds r into its row of each width; returns the row of the last width. */
function foldInto(out: Map<string, RollupRow>, r: RawReading, widths: readonly number[]): RollupRow | null {
  const prefix = `${r.src}\u0000${r.endpoint}\u0000${r.memberId ?? ''}\u0000${r.clusterId ?? ''}\u0000${r.basis ?? ''}\u0000${r.approx}`;
  let row: RollupRow | null = null;
  for (const w of widths) {
    const k = `${prefix}\u0000${w}\u0000${Math.floor(r.ts / w)}`;
    row = out.get(k) ?? null;
    if (row) addReading(row, r);
    else out.set(k, (row = rollupOf(r, w)));
  }
  return row;
}

/** Whether r falls in row's bucket (same source, member, basis, approx and hour). */
function sameBucket(row: RollupRow, r: RawReading): boolean {
  return row.src === r.src && row.endpoint === r.endpoint && row.memberId === (r.memberId ?? '') && row.clusterId === (r.clusterId ?? '') &&
    row.basis === (r.basis ?? '') && row.approx === r.approx && row.bucket === Math.floor(r.ts / row.width);
}

function watermark(db: Db): number {
  return (db.prepare('SELECT last_id AS w FROM status_rollup_state').get() as { w: number } | undefined)?.w ?? 0;
}

function hasRollup(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'status_rollup'").get() !== undefined;
}

/**
 * Merges folded rows into the stored ones (one read and one write per row touched). `isNew(r)`: the caller knows
 * that no row of r's key is stored (it is written without the read).
 */
function storeRows(db: Db, rows: Iterable<RollupRow>, isNew: (r: RollupRow) => boolean = () => false): void {
  const get = db.prepare(`${ROLLUP_SELECT} WHERE ${KEY.map((k) => `${k} = ?`).join(' AND ')}`).raw(true);
  const put = db.prepare(`INSERT OR REPLACE INTO status_rollup (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  for (const r of rows) {
    const p = toParams(r);
    const stored = isNew(r) ? undefined : get.get(...p.slice(0, KEY.length)) as unknown[] | undefined;
    put.run(...(stored ? toParams(mergeRollup(fromStored(stored), r)) : p));
  }
}

/**
 * Folds every timed reading above the watermark into the stored rollup and refreshes the cluster of the
 * rollup rows of sources that mix clusters (their readings carry their own cluster). Returns readings folded.
 */
export function catchUpStatusRollup(db: Db): number {
  if (!hasRollup(db)) return 0;
  // BEGIN IMMEDIATE: it reads before it writes, and a deferred transaction that must then upgrade its read lock
  // while another command writes gets SQLITE_BUSY at once, without --wait (inside another transaction: a savepoint).
  return db.transaction(() => {
    const w = watermark(db);
    const top = (db.prepare('SELECT MAX(id) AS m FROM status_samples').get() as { m: number | null }).m ?? 0;
    let folded = 0;
    if (top > w) {
      const read = db.prepare(`SELECT ${RAW_COLUMNS} FROM status_samples s WHERE s.id > ? AND s.id <= ? AND s.ts_ms IS NOT NULL ORDER BY s.id`);
      // In slices, so that memory stays bounded on millions of readings.
      const SLICE = 100_000;
      for (let from = w; from < top; from += SLICE) {
        const rows = foldReadings(read.iterate(from, Math.min(top, from + SLICE)) as IterableIterator<RawReading>);
        for (const r of rows.values()) if (r.width === HOUR_MS) folded += r.n;
        storeRows(db, rows.values());
      }
      db.prepare('UPDATE status_rollup_state SET last_id = ?').run(top);
    }
    // A file that mixes clusters gives each reading its own cluster (all readings of one rollup row share it:
    // it is told from the source, cluster id and member id, all in the key).
    db.exec(`UPDATE status_rollup SET cluster = NULL WHERE cluster IS NOT NULL;
      UPDATE status_rollup SET cluster = (SELECT s.cluster FROM status_samples s WHERE s.id = status_rollup.min_id)
      WHERE src IN (SELECT id FROM sources WHERE cluster_basis LIKE '%mixed%')`);
    return folded;
  }).immediate();
}

const HOURLY = [HOUR_MS] as const;

/**
 * For a writer that has every reading in hand (Prometheus import, collect, /metrics pages): folds them as they
 * are written and stores the rows every FLUSH_ROWS rows and at flush(), without reading them back. When the
 * readings above the watermark are not exactly the ones it folded (another writer, an older store), it
 * leaves them to catchUpStatusRollup().
 */
export class RollupFolder {
  private rows = new Map<string, RollupRow>();
  private last: RollupRow | null = null;
  private readonly fresh = new Set<number>();
  /** Per fresh source, member and width: the highest bucket stored. */
  private readonly storedTop = new Map<string, number>();
  private count = 0;
  private minId = Infinity;
  private maxId = 0;
  private static readonly FLUSH_ROWS = 5_000;

  /** Keeps no reference to r (a writer may refill one object for every reading). */
  add(db: Db, r: RawReading): void {
    // Readings come member by member in time order: most fall in the row of the one before (no key string made).
    if (this.last !== null && sameBucket(this.last, r)) addReading(this.last, r);
    else this.last = foldInto(this.rows, r, HOURLY);
    this.count++;
    if (r.id < this.minId) this.minId = r.id;
    if (r.id > this.maxId) this.maxId = r.id;
    if (this.rows.size >= RollupFolder.FLUSH_ROWS) this.flush(db);
  }

  /** Inside the writer's transaction. */
  flush(db: Db): void {
    if (this.count === 0 || !hasRollup(db)) return this.reset();
    const w = watermark(db);
    const above = db.prepare('SELECT COUNT(*) AS n, MAX(id) AS top FROM status_samples WHERE id > ?').get(w) as { n: number; top: number | null };
    if (above.n === this.count && this.minId > w && above.top === this.maxId) {
      storeRows(db, widen(this.rows, ROLLUP_WIDTHS).values(), (r) => this.unstored(r));
      db.prepare('UPDATE status_rollup_state SET last_id = ?').run(this.maxId);
    } else {
      catchUpStatusRollup(db);
      // It stored rows this folder does not know of, of any source.
      this.fresh.clear();
    }
    this.reset();
  }

  /**
   * A source this run created (inside the transaction that writes its readings): its rollup rows are only the ones
   * this folder stores, so a row of a later bucket than any stored for its member and width is written without
   * reading first (a 200-cluster import stores 450 k rows, mostly new).
   */
  markFresh(src: number): void {
    this.fresh.add(src);
  }

  private unstored(r: RollupRow): boolean {
    if (!this.fresh.has(r.src)) return false;
    const k = `${r.src}\u0000${r.endpoint}\u0000${r.memberId}\u0000${r.clusterId}\u0000${r.basis}\u0000${r.approx}\u0000${r.width}`;
    const top = this.storedTop.get(k);
    if (top === undefined || r.bucket > top) {
      this.storedTop.set(k, r.bucket);
      return true;
    }
    return false;
  }

  private reset(): void {
    this.rows = new Map();
    this.last = null;
    this.count = 0;
    this.minId = Infinity;
    this.maxId = 0;
  }
}

export interface ClusterRollup {
  ref: number | null;
  rows: RollupRow[];
}

/**
 * The rollup rows of one width with their cluster (the reading's own, else its source's); readings not yet folded
 * in are folded here, in memory. `keys`: only the rows of these (source, endpoint, member id) prefixes.
 */
export function readStatusRollup(db: Db, width: number, keys: readonly { src: number; endpoint: string; memberId: string }[] | null = null, sinceMs = 0):
  { rows: (RollupRow & { ref: number | null })[]; pending: number } {
  const srcCluster = new Map((db.prepare('SELECT id, cluster FROM sources').all() as { id: number; cluster: number | null }[]).map((s) => [s.id, s.cluster]));
  const out: (RollupRow & { ref: number | null })[] = [];
  const stored = hasRollup(db);
  const w = stored ? watermark(db) : 0;
  const push = (r: RollupRow): void => { out.push(Object.assign(r, { ref: r.cluster ?? srcCluster.get(r.src) ?? null })); };
  if (stored && keys === null) {
    for (const v of db.prepare(`${ROLLUP_SELECT} WHERE width = ?`).raw(true).iterate(width) as IterableIterator<unknown[]>) push(fromStored(v));
  } else if (stored && keys) {
    const st = db.prepare(`${ROLLUP_SELECT} WHERE src = ? AND endpoint = ? AND member_id = ? AND width = ? AND last_ts >= ?`).raw(true);
    for (const k of keys) for (const v of st.iterate(k.src, k.endpoint, k.memberId, width, sinceMs) as IterableIterator<unknown[]>) push(fromStored(v));
  }
  const wanted = keys && new Set(keys.map((k) => `${k.src}\u0000${k.endpoint}\u0000${k.memberId}`));
  const pendingRows = foldReadings(db.prepare(`SELECT ${RAW_COLUMNS} FROM status_samples s WHERE s.id > ? AND s.ts_ms IS NOT NULL ORDER BY s.id`)
    .iterate(w) as IterableIterator<RawReading>, [width]);
  let pending = 0;
  if (pendingRows.size) {
    const byKey = new Map(out.map((r, i) => [keyOf(r), i]));
    for (const [k, r] of pendingRows) {
      if ((wanted && !wanted.has(`${r.src}\u0000${r.endpoint}\u0000${r.memberId}`)) || r.lastTs < sinceMs) continue;
      pending += r.n;
      const i = byKey.get(k);
      if (i === undefined) push(r);
      else out[i] = Object.assign(mergeRollup(out[i]!, r), { ref: out[i]!.ref });
    }
  }
  return { rows: out, pending };
}
