// Reading `snapshot status` figures. TOTAL KEYS counts entries in EVERY bucket (meta, members,
// lease, alarm, … and each revision row in `key`), and TOTAL SIZE is the bbolt high-water mark, free
// pages included. A big file with few entries therefore held compacted history as free pages:
// defragmentation gives that space back, compaction cannot.
import type { SnapshotStatusRow } from './load.js';
import { humanizeBytes } from '../units/sizes.js';
import { iso } from './load.js';
import type { SnapshotReading } from './types.js';

export type { SnapshotReading } from './types.js';


/** Entries below this share of the revision mean the history was compacted away. */
const COMPACTED_SHARE = 0.01;
/** Average bytes per entry above this means most of the file is free pages. */
const FREE_PAGES_BYTES_PER_ENTRY = 64 * 1024;

export function readSnapshotStatus(rows: SnapshotStatusRow[]): SnapshotReading[] {
  return rows.map((s) => {
    const bytesPerEntry = s.total_keys > 0 ? s.total_size_bytes / s.total_keys : s.total_size_bytes;
    const historyCompacted = s.total_keys < s.revision * COMPACTED_SHARE;
    const mostlyFree = bytesPerEntry > FREE_PAGES_BYTES_PER_ENTRY;
    const size = `${humanizeBytes(s.total_size_bytes)}${s.total_size_approx ? ' (humanized)' : ''}`;
    let interpretation: string;
    if (historyCompacted && mostlyFree) {
      interpretation = `${size} but only ${s.total_keys} entries across all buckets at revision ${s.revision}: the history had already been ` +
        `compacted and almost all of the file is free pages (about ${humanizeBytes(bytesPerEntry)} per entry). Defragmentation, not compaction, ` +
        `gives this space back: the quota counts the physical size.`;
    } else if (historyCompacted) {
      interpretation = `${s.total_keys} entries at revision ${s.revision}: the history was compacted; ${size} holds live keys and free pages.`;
    } else {
      interpretation = `${s.total_keys} entries for ${s.revision} revisions: the history is still in the file ` +
        `(about ${Math.round(bytesPerEntry)} bytes per entry); compaction then defragmentation would shrink it.`;
    }
    return {
      at: iso(s.ts_ms), source: `${s.path}:${s.line}`, hash: s.hash, revision: s.revision, totalKeys: s.total_keys,
      totalSizeBytes: s.total_size_bytes, totalSizeApprox: s.total_size_approx === 1, bytesPerEntry: Math.round(bytesPerEntry),
      historyCompacted, interpretation,
    };
  });
}
