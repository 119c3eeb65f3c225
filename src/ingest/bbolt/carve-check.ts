// Cross-checks for carved rows: a row that passed the page checks could still be a stale page with a
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
import type { CarvedRow } from './carve-page.js';

/** The earliest live row of a key (for a compacted key bucket: the row compaction kept). */
export interface FirstLive {
  main: number;
  tombstone: boolean;
  createRevision: number;
  version: number;
}

/** Live (main, sub) pairs as runs of consecutive revisions, plus each key's earliest live row. */
export class LiveRevisions {
  private readonly runs: number[] = []; // [startMain, startSub, endMain, endSub] per run
  readonly firstByKey = new Map<string, FirstLive>();
  private lastMain = -1;
  private lastSub = -1;

  add(main: number, sub: number, key: string, tombstone: boolean, createRevision: number, version: number): void {
    if (!this.firstByKey.has(key)) this.firstByKey.set(key, { main, tombstone, createRevision, version });
    const r = this.runs;
    const extends_ = r.length > 0 && ((main === this.lastMain && sub === this.lastSub + 1) || (main === this.lastMain + 1 && sub === 0));
    if (extends_) {
      r[r.length - 2] = main;
      r[r.length - 1] = sub;
    } else {
      r.push(main, sub, main, sub);
    }
    this.lastMain = main;
    this.lastSub = sub;
  }

  /** Rows arrive in revision order (a cursor over the key bucket), so runs are sorted. */
  has(main: number, sub: number): boolean {
    const r = this.runs;
    let lo = 0;
    let hi = r.length / 4 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = mid * 4;
      if (before(main, sub, r[o]!, r[o + 1]!)) hi = mid - 1;
      else if (before(r[o + 2]!, r[o + 3]!, main, sub)) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Some live row has this main revision. */
  hasMain(main: number): boolean {
    const r = this.runs;
    let lo = 0;
    let hi = r.length / 4 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (main < r[mid * 4]!) hi = mid - 1;
      else if (main > r[mid * 4 + 2]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Distinct live main revisions in [from, to]. */
  mainsIn(from: number, to: number): number {
    let n = 0;
    let prevEnd = -1;
    for (let o = 0; o < this.runs.length; o += 4) {
      const a = Math.max(from, this.runs[o]!);
      const b = Math.min(to, this.runs[o + 2]!);
      if (b < a) continue;
      n += b - a + 1 - (a === prevEnd ? 1 : 0);
      prevEnd = b;
    }
    return n;
  }
}

function before(m1: number, s1: number, m2: number, s2: number): boolean {
  return m1 < m2 || (m1 === m2 && s1 < s2);
}

/**
 * Keeps the rows consistent with the live tree and with each other. `bound` is the compaction
 * revision (max of finished and scheduled); rows above it, or with no bound at all, cannot be
 * compacted history.
 */
export function checkCarvedRows(rows: readonly CarvedRow[], live: LiveRevisions, bound: number | null): { kept: CarvedRow[]; inconsistent: number } {
  const ok = rows.filter((r) => bound !== null && r.main <= bound && againstLive(r, live.firstByKey.get(r.key)));
  const bad = new Set<CarvedRow>();
  checkChains(ok, bad);
  checkAnchors(ok, bad);
  checkSubs(ok, live, bad);
  const stage = ok.filter((r) => !bad.has(r));
  const kept = keepSupported(stage, live.firstByKey);
  return { kept, inconsistent: rows.length - kept.length };
}

function againstLive(r: CarvedRow, first: FirstLive | undefined): boolean {
  if (first === undefined) return true;
  if (r.main >= first.main) return false;
  if (r.tombstone) return first.tombstone ? true : first.createRevision > r.main;
  if (!first.tombstone && r.createRevision === first.createRevision) {
    return r.version < first.version && first.version - r.version <= first.main - r.main;
  }
  return first.tombstone || r.createRevision < first.createRevision;
}

/** Puts of one key and create_revision: version rises with revision, never faster. */
function checkChains(rows: readonly CarvedRow[], bad: Set<CarvedRow>): void {
  const chains = new Map<string, CarvedRow[]>();
  for (const r of rows) {
    if (r.tombstone) continue;
    const id = `${r.createRevision}\u0000${r.key}`;
    const chain = chains.get(id);
    if (chain) chain.push(r);
    else chains.set(id, [r]);
  }
  for (const chain of chains.values()) {
    chain.sort((a, b) => a.main - b.main);
    for (let i = 1; i < chain.length; i++) {
      const a = chain[i - 1]!;
      const b = chain[i]!;
      if (b.version <= a.version || b.version - a.version > b.main - a.main) {
        bad.add(a);
        bad.add(b);
      }
    }
  }
}

/** Subs of one main are 0..n-1 and name distinct keys (a flipped sub bit must not make a revision). */
function checkSubs(rows: readonly CarvedRow[], live: LiveRevisions, bad: Set<CarvedRow>): void {
  const byMain = new Map<number, CarvedRow[]>();
  for (const r of rows) {
    const at = byMain.get(r.main);
    if (at) at.push(r);
    else byMain.set(r.main, [r]);
  }
  for (const at of byMain.values()) {
    const subs = new Set(at.map((r) => r.sub));
    const keys = new Map<string, number>();
    for (const r of at) keys.set(r.key, (keys.get(r.key) ?? 0) + 1);
    for (const r of at) {
      if (keys.get(r.key)! > 1) bad.add(r);
      else if (r.sub > 0 && !subs.has(r.sub - 1) && !live.has(r.main, r.sub - 1)) bad.add(r);
    }
  }
}

/** Where rows at a put's create_revision were recovered, one is that key's first put. */
function checkAnchors(rows: readonly CarvedRow[], bad: Set<CarvedRow>): void {
  const byMain = new Map<number, CarvedRow[]>();
  for (const r of rows) {
    const at = byMain.get(r.main);
    if (at) at.push(r);
    else byMain.set(r.main, [r]);
  }
  for (const r of rows) {
    if (r.tombstone) continue;
    const at = byMain.get(r.createRevision);
    if (at === undefined) continue;
    const anchored = at.some((x) => !x.tombstone && x.key === r.key && x.version === 1 && x.createRevision === r.createRevision);
    if (!anchored) bad.add(r);
  }
}

/**
 * A put that is not on the key's live chain was ended by a delete: a recovered tombstone of the key
 * must follow it (before the live chain began). A tombstone must follow a recovered put.
 */
function keepSupported(rows: readonly CarvedRow[], firstByKey: ReadonlyMap<string, FirstLive>): CarvedRow[] {
  const byKey = new Map<string, { puts: number[]; tombstones: number[] }>();
  for (const r of rows) {
    let k = byKey.get(r.key);
    if (k === undefined) byKey.set(r.key, (k = { puts: [], tombstones: [] }));
    (r.tombstone ? k.tombstones : k.puts).push(r.main);
  }
  for (const k of byKey.values()) {
    k.puts.sort((a, b) => a - b);
    k.tombstones.sort((a, b) => a - b);
  }
  return rows.filter((r) => {
    const k = byKey.get(r.key)!;
    if (r.tombstone) return k.puts.length > 0 && k.puts[0]! < r.main;
    const first = firstByKey.get(r.key);
    if (first !== undefined && !first.tombstone && first.createRevision === r.createRevision) return true;
    const limit = first === undefined ? Infinity : first.tombstone ? first.main : first.createRevision;
    const next = firstAbove(k.tombstones, r.main);
    return next !== undefined && next < limit;
  });
}

/** The smallest value in sorted `xs` greater than `x`. */
function firstAbove(xs: readonly number[], x: number): number | undefined {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return xs[lo];
}
