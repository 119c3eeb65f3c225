// Recovering compacted history from free pages. Compaction deletes revision rows but bbolt does not
// zero the pages it frees, `etcdctl snapshot save` copies every page below the high-water mark, and
// only defragmentation drops them. So a file compacted and never defragmented still holds old
// revisions in leaf pages the live tree no longer reaches. This scans the pages in [2, pgid) the walk
// did not reach, keeps those that validate strictly as key-bucket leaf pages (carve-page.ts), keeps
// one copy of each revision (pages are copy-on-write: a revision often survives in several stale
// copies of its page) and drops rows that disagree with the live tree or each other (carve-store.ts).
// Carved rows are evidence marked `recovered`: best effort, never invented. Never throws on bytes.
import type { BoltFile } from './file.js';
import { updateCrc32c } from './crc32c.js';
import { LEAF_PAGE, makePage } from './page.js';
import { carveLeafPage, headerId, type CarvedRow, type RecoveredRevision } from './carve-page.js';
import type { LiveRevisions } from './live-revisions.js';
import { CarveStore, type CarveCounts } from './carve-store.js';

export type { CarvedRow, RecoveredRevision } from './carve-page.js';
export { LiveRevisions } from './live-revisions.js';

export interface CarveResult {
  /** Free pages looked at (every page in [2, pgid) the live tree does not reach). */
  freePages: number;
  /** Free pages whose header says leaf and whose id field equals their position. */
  leafPages: number;
  /** Leaf pages taken: every element a well-formed revision row. */
  pagesCarved: number;
  /** Leaf pages skipped whole, and why (reason → pages). */
  pagesRejected: number;
  rejectReasons: Record<string, number>;
  /** Rows read from carved pages, every copy counted. */
  rowsCarved: number;
  /** Rows that are stale copies of revisions the live tree still holds. */
  liveCopies: number;
  /** Extra copies of a recovered revision (same bytes), beyond the one kept. */
  duplicates: number;
  /** Revisions whose copies disagree with no majority: dropped. */
  conflicts: number;
  /** Distinct revisions dropped because they contradict the live tree or other recovered rows. */
  inconsistent: number;
  /** Revisions recovered: not in the live tree. */
  revisionsRecovered: number;
  /** The recovered revisions in revision order, read from the carver's scratch store (carve-store.ts). */
  recovered(): IterableIterator<RecoveredRevision>;
  /** Releases the scratch store; recovered() cannot be called after. */
  close(): void;
  /** The compacted range [2, finishedCompactRev] and how much of it was recovered; null when never compacted. */
  compacted: CompactedRange | null;
}

export interface CompactedRange {
  firstRevision: number;
  lastRevision: number;
  /** Main revisions in the range with no live row: the history compaction deleted. */
  lostRevisions: number;
  /** Of those, how many have at least one recovered row. */
  recoveredRevisions: number;
  share: number;
}

export interface CarveInput {
  file: BoltFile;
  pageSize: number;
  pgid: number;
  littleEndian: boolean;
  /** 1 for every page the live walk reached. */
  reached: Uint8Array;
  live: LiveRevisions;
  finishedCompactRev: number | null;
  scheduledCompactRev: number | null;
  /** Largest overflowing page span read (default 16 MiB); larger ones are rejected. */
  maxSpanBytes?: number;
}

/** etcd's store starts at revision 1 with no rows; the first write is revision 2. */
const FIRST_WRITE_REVISION = 2;
const CHUNK_PAGES = 64;

export function carveFreePages(input: CarveInput): CarveResult {
  const store = new CarveStore();
  try {
    const result: CarveResult = {
      freePages: 0, leafPages: 0, pagesCarved: 0, pagesRejected: 0, rejectReasons: {}, rowsCarved: 0, liveCopies: 0,
      duplicates: 0, conflicts: 0, inconsistent: 0, revisionsRecovered: 0, compacted: null,
      recovered: () => store.recovered(),
      close: () => store.close(),
    };
    scanFreePages(input, result, (rows) => {
      for (const row of rows) {
        result.rowsCarved++;
        if (input.live.has(row.main, row.sub)) {
          result.liveCopies++;
          continue;
        }
        store.stage(row);
      }
    });
    const counts = store.resolve(input.live, maxOrNull(input.finishedCompactRev, input.scheduledCompactRev));
    result.conflicts = counts.conflicts;
    result.inconsistent = counts.inconsistent;
    result.revisionsRecovered = counts.recovered;
    result.duplicates = counts.duplicates;
    result.compacted = compactedRange(input, counts);
    return result;
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Reads free pages in runs, page by page, handing over the rows of each page that validates. */
function scanFreePages(input: CarveInput, result: CarveResult, onRows: (rows: CarvedRow[]) => void): void {
  const { file, pageSize, pgid, reached } = input;
  const chunk = Buffer.alloc(CHUNK_PAGES * pageSize);
  const crc = (buf: Buffer, start: number, end: number): number => updateCrc32c(0, buf, start, end);
  for (let p = 2; p < pgid; p++) if (reached[p] === 0) result.freePages++;
  let id = 2;
  while (id < pgid) {
    if (reached[id] === 1) {
      id++;
      continue;
    }
    let n = 1;
    while (n < CHUNK_PAGES && id + n < pgid && reached[id + n] === 0) n++;
    file.readInto(chunk, 0, id * pageSize, n * pageSize, `free pages ${id}..${id + n - 1}`);
    let skipTo = id;
    for (let i = 0; i < n; i++) {
      const pageId = id + i;
      if (pageId < skipTo) continue;
      const page = makePage(chunk.subarray(i * pageSize, (i + 1) * pageSize), pageId, pageId * pageSize, input.littleEndian, null);
      if (page.flags !== LEAF_PAGE || headerId(page) !== pageId) continue;
      result.leafPages++;
      const verdict = carveCandidate(input, page, crc);
      if (!verdict.ok) {
        result.pagesRejected++;
        result.rejectReasons[verdict.reason] = (result.rejectReasons[verdict.reason] ?? 0) + 1;
        continue;
      }
      result.pagesCarved++;
      onRows(verdict.rows);
      skipTo = pageId + page.overflow + 1;
    }
    // A carved page's overflow pages hold its elements, not pages of their own.
    id = Math.max(id + n, skipTo);
  }
}

type Verdict = ReturnType<typeof carveLeafPage>;

function carveCandidate(input: CarveInput, page: ReturnType<typeof makePage>, crc: (b: Buffer, s: number, e: number) => number): Verdict {
  if (page.overflow === 0) return carveLeafPage(page, crc);
  const last = page.id + page.overflow;
  const span = (page.overflow + 1) * input.pageSize;
  if (last >= input.pgid || span > (input.maxSpanBytes ?? 16 * 1024 * 1024)) return { ok: false, reason: 'overflow out of range' };
  // Overflow pages reused since (reached now) hold other data: the page is gone.
  for (let p = page.id + 1; p <= last; p++) if (input.reached[p] === 1) return { ok: false, reason: 'overflow pages reused' };
  const whole = input.file.read(page.id * input.pageSize, span, `free page ${page.id}`);
  return carveLeafPage(makePage(whole, page.id, page.byteOffset, input.littleEndian, null), crc);
}

function compactedRange(input: CarveInput, counts: CarveCounts): CompactedRange | null {
  const last = input.finishedCompactRev;
  if (last === null || last < FIRST_WRITE_REVISION) return null;
  const first = FIRST_WRITE_REVISION;
  const lost = last - first + 1 - input.live.mainsIn(first, last);
  const recovered = counts.recoveredMainsIn(first, last);
  return { firstRevision: first, lastRevision: last, lostRevisions: lost, recoveredRevisions: recovered, share: lost > 0 ? recovered / lost : 0 };
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}
