// `wal`: who wrote what in a member's WAL window, its leases and compactions, and growth between two
// snapshots (issue 16). Every string from the data passes format.ts on its way out.
import { openStore } from '../store/open.js';
import { analyzeWalWriters, type IndexTime, type WalWritersReport } from '../analyze/wal-writers.js';
import { growthBetween, listSnapshotPoints, type SnapshotGrowth } from '../analyze/wal-growth.js';
import { humanizeBytes } from '../units/sizes.js';
import { isoOrDash, renderTable, safeJson, safeText } from './format.js';
import { parseCountOption } from './options.js';

export async function runWal(opts: { db: string; json?: boolean; top?: string }): Promise<void> {
  const top = parseCountOption('--top', opts.top ?? '10', 1, 1_000_000);
  const db = openStore(opts.db, { readonly: true });
  let report: WalWritersReport;
  let growth: SnapshotGrowth | null = null;
  try {
    report = analyzeWalWriters(db, top);
    const points = listSnapshotPoints(db).filter((p) => p.ms !== null);
    const first = points[0];
    const last = points[points.length - 1];
    if (first && last && last.revision > first.revision) growth = growthBetween(db, first, last);
  } finally {
    db.close();
  }
  if (opts.json) {
    process.stdout.write(`${safeJson({ schemaVersion: 1, ...report, growth })}\n`);
    return;
  }
  if (report.windows.length === 0 && growth === null) {
    process.stdout.write('No WAL segment in the store (etcd-forensics ingest <member data dir>, or its wal/ folder).\n');
    return;
  }
  process.stdout.write(`${[...windowLines(report), ...writerLines(report), ...leaseLines(report), ...growthLines(growth)].join('\n')}\n`);
}

const hexLease = (id: string): string => BigInt.asUintN(64, BigInt(id)).toString(16);

function windowLines(r: WalWritersReport): string[] {
  return r.windows.map((w) => renderTable([`WAL window of member ${w.member} (evidence: wal, ${w.evidence.completeness})`, 'value'], [
    ['raft entries', `${w.entries}: index ${w.firstIndex}..${w.lastIndex}`],
    ['revisions', w.firstRevision === null ? 'not known (the window does not start at index 1)' : `${w.firstRevision}..${w.lastRevision}`],
    ['snapshot before it', w.snapshotBefore ? `index ${w.snapshotBefore.index}, term ${w.snapshotBefore.term} (${w.snapshotBefore.from})` : 'none (the window starts at the cluster\'s first entry)'],
    ['first entry written', timeText(w.firstTime)],
    ['last entry written', timeText(w.lastTime)],
    ['segment last written', `${isoOrDash(w.lastWrittenMs)} (file time of the newest segment)`],
    ['segments', w.segments.join(', ')],
    ['damage', w.damage ? `${w.damage.segment} byte ${w.damage.offset}: ${w.damage.reason} (nothing after it read)` : 'none'],
    ['gaps', w.gaps.length === 0 ? 'none' : w.gaps.map((g) => `entries ${g.fromIndex}..${g.toIndex} missing before ${g.before}`).join('; ')],
  ]));
}

function timeText(t: IndexTime): string {
  if (t.notBeforeMs === null && t.notAfterMs === null) return 'not known (no status samples or etcd log that saw the index)';
  const when = t.notBeforeMs === null ? `before ${isoOrDash(t.notAfterMs)}`
    : t.notAfterMs === null ? `after ${isoOrDash(t.notBeforeMs)}` : `between ${isoOrDash(t.notBeforeMs)} and ${isoOrDash(t.notAfterMs)}`;
  return `${when} (${t.from.join(', ')} saw the raft index)`;
}

function writerLines(r: WalWritersReport): string[] {
  const rows = (xs: WalWritersReport['keys']) => xs.map((x) => [x.name, x.puts, x.deletes, humanizeBytes(x.bytes), x.keys]);
  const storm = r.grantStorm ? `${r.grantStorm.grants} grants and ${r.grantStorm.revokes} revokes within raft entries ${r.grantStorm.fromIndex}..${r.grantStorm.toIndex}` : 'no lease grants';
  return [
    renderTable(['key group (writes in the window)', 'puts', 'deletes', 'value bytes', 'keys'], rows(r.groups)),
    renderTable(['key', 'puts', 'deletes', 'value bytes', 'keys'], rows(r.keys)),
    `LEASES: ${r.grants} granted, ${r.revokes} revoked, ${r.checkpoints} checkpoints in the window; busiest 100 entries: ${safeText(storm)}`,
    renderTable(['lease (writer)', 'TTL', 'granted at index', 'revoked at index', 'puts', 'keys kept'],
      r.leases.filter((l) => l.puts > 0).map((l) => [hexLease(l.lease), l.ttl ?? '-', l.grantedAt ?? 'before the window', l.revokedAt ?? '-', l.puts, l.keys.join(', ')])),
    renderTable(['compaction at index', 'revision', 'requested by', 'why'], r.compactions.map((c) => [c.raftIndex, c.revision, c.by, c.why])),
  ];
}

function leaseLines(r: WalWritersReport): string[] {
  const s = r.snapshotLeases;
  if (!s) return [];
  return [
    `LEASES IN ${safeText(s.source)} (evidence: snapshot, exact)`,
    renderTable(['lease', 'TTL', 'remaining TTL', 'keys attached'],
      s.leases.map((l) => [hexLease(l.lease), l.ttl, l.remainingTtl === 0 ? '- (not checkpointed)' : l.remainingTtl, l.orphaned ? 'none: orphaned' : l.keys.join(', ')])),
  ];
}

function growthLines(g: SnapshotGrowth | null): string[] {
  if (!g) return [];
  return [
    `GROWTH between ${safeText(g.from.path)} (revision ${g.from.revision}, ${isoOrDash(g.from.ms)}) and ${safeText(g.to.path)} (revision ${g.to.revision}, ${isoOrDash(g.to.ms)}) (evidence: snapshot, ${g.evidence.completeness}: ${safeText(g.evidence.detail)})`,
    renderTable(['key group', 'keys', 'revisions added', 'bytes added', 'revisions/hour', 'bytes/hour'],
      g.groups.map((x) => [x.group, x.keys, x.revisions, x.bytesAdded, x.revisionsPerHour === null ? '-' : x.revisionsPerHour.toFixed(0), x.bytesPerHour === null ? '-' : humanizeBytes(x.bytesPerHour)])),
  ];
}
