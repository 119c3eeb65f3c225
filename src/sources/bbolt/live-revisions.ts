// The live tree's revisions as the carver needs them: runs of consecutive (main, sub) pairs, recorded
// during the walk of the key bucket (rows arrive in revision order), and each key's earliest live row.
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
