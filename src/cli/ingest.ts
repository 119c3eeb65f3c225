import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { bulkWriteMode, openStore } from '../store/open.js';
import { ingestInput, type IngestResult } from '../ingest/ingest-file.js';
import { isValidZone } from '../units/time.js';
import { parseTimeOption } from './options.js';
import { SOURCE_KINDS, type SourceKind } from '../model.js';
import { UsageError } from '../errors.js';
import { isoOrDash, out, err } from './format.js';
import { EXIT } from './exit-codes.js';
import { createProgress } from './progress.js';
import { checkTimeSanity, type TimeDisagreement, type TimeWitness } from '../analyze/time-sanity.js';
import { formatOffset, zoneOffsetMin } from '../units/time.js';
import { assignClusters } from '../analyze/clusters.js';
import { nextSourceId, setClusterOption } from '../store/clusters.js';
import type { ClusterAssignment } from '../store/clusters.js';

interface IngestCliOptions {
  db: string;
  kind?: string;
  tz?: string;
  member?: string;
  at?: string;
  strict?: boolean;
  /** --cluster NAME: the etcd cluster of every input read here; overrides what the data says (issue 12). */
  cluster?: string;
  keepRaw?: boolean;
}

export async function runIngest(paths: string[], opts: IngestCliOptions): Promise<void> {
  if (opts.kind && !SOURCE_KINDS.includes(opts.kind as SourceKind)) {
    throw new UsageError(`--kind ${opts.kind}: expected one of ${SOURCE_KINDS.join(', ')}`);
  }
  if (opts.tz && !isValidZone(opts.tz)) throw new UsageError(`--tz ${opts.tz}: not a time zone (try Asia/Shanghai or +08:00)`);
  let atMs: number | null = null;
  if (opts.at) atMs = parseTimeOption('--at', opts.at, opts.tz ?? null, '2023-09-26T15:42:00+08:00');
  const cluster = opts.cluster === undefined ? null : opts.cluster.trim();
  if (cluster === '') throw new UsageError('--cluster: expected a name (production, 4cdaeeef86796c29, pg_demo)');
  const db = openStore(opts.db);
  const restoreWal = bulkWriteMode(db);
  let failed = false;
  const { inputs, notRead } = expandPaths(paths);
  try {
    for (const { path: p, setAside } of inputs) {
      const progress = createProgress(p === '-' ? null : fileSize(p), p);
      const firstId = nextSourceId(db);
      const r = await ingestInput(db, p, {
        kind: (opts.kind as SourceKind | undefined) ?? null, tz: opts.tz ?? null, member: opts.member ?? null,
        atMs, strict: opts.strict ?? false, keepRaw: opts.keepRaw ?? false, onBytes: progress.update, setAside,
      }).finally(() => progress.stop());
      if (r.status === 'not-input') notRead.push({ path: p, why: r.why ?? 'not an input' });
      else printResult(r);
      // Skipped lines are reported but do not fail a file that was read (a post's prose and fences);
      // --strict makes them fail it (status 'failed').
      if (r.status === 'failed') failed = true;
      if (cluster !== null && r.status === 'ingested') setClusterOption(db, firstId, cluster);
      // Stored before: --cluster does not move it (re-ingest adds nothing); say how to.
      if (cluster !== null && r.status === 'duplicate') out(`--cluster ${cluster} not applied to ${p}: stored before (sources rm it, then ingest it again with --cluster)\n`);
    }
    // Each file set aside, once, after what was read (sorted like the walk, so runs are repeatable).
    for (const n of notRead.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      out(`not read: ${n.path} (${n.why})\n`);
    }
    for (const line of describeClusters(assignClusters(db))) out(`${line}\n`);
    for (const d of checkTimeSanity(db)) out(`${describeTimeDisagreement(d)}\n`);
  } finally {
    restoreWal();
    db.close();
  }
  if (failed) process.exitCode = EXIT.input;
}

/** Said only when it matters: several clusters in the store, or sources tied to none of them. */
function describeClusters(a: ClusterAssignment): string[] {
  const unassigned = a.sources.filter((s) => s.cluster === null && s.basis === 'unassigned');
  if (a.clusters.length < 2 && unassigned.length === 0) return [];
  const count = (name: string): number => a.sources.filter((s) => s.cluster === name).length;
  const lines = [`clusters: ${a.clusters.map((c) => `${c.name} (${count(c.name)} source${count(c.name) === 1 ? '' : 's'})`).join(', ')}; each is analysed apart (--cluster NAME selects one)`];
  if (unassigned.length > 0) {
    lines.push(`unassigned: ${unassigned.length} source${unassigned.length === 1 ? '' : 's'} (#${unassigned.map((s) => s.id).join(', #')}) name no cluster id, member or Patroni scope of a known cluster; they are left out of the analyses (sources rm, then ingest --cluster NAME)`);
  }
  return lines;
}

function fileSize(p: string): number | null {
  try {
    return statSync(p).size;
  } catch {
    return null;
  }
}

interface Walk {
  /** Files to read; `setAside`: found in a directory, so a file that is plainly not an input is not an error. */
  inputs: { path: string; setAside: boolean }[];
  /** What the walk itself set aside: links that loop or lead nowhere, FIFOs, directories that cannot be listed. */
  notRead: { path: string; why: string }[];
}

/**
 * Directories expand recursively, in name order, so runs are repeatable. Symbolic links are followed,
 * but a directory is walked once (by device and inode), so links back to `.` cannot loop; a FIFO is never
 * opened (it would block). A path named on the command line is read as given and its errors are reported.
 */
function expandPaths(paths: string[]): Walk {
  const walk: Walk = { inputs: [], notRead: [] };
  const seen = new Set<string>();
  const visitDir = (dir: string, st: Stats): void => {
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) {
      walk.notRead.push({ path: dir, why: 'a link to a directory already walked' });
      return;
    }
    seen.add(key);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      walk.notRead.push({ path: dir, why: `cannot list the directory: ${errCode(e)}` });
      return;
    }
    for (const name of names) visitEntry(join(dir, name));
  };
  const visitEntry = (p: string): void => {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      const link = isSymlink(p);
      walk.notRead.push({ path: p, why: link ? `a symbolic link that leads nowhere: ${errCode(e)}` : `cannot read: ${errCode(e)}` });
      return;
    }
    if (st.isDirectory()) visitDir(p, st);
    else if (st.isFile()) walk.inputs.push({ path: p, setAside: true });
    else walk.notRead.push({ path: p, why: `not a regular file (${st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device'})` });
  };
  for (const p of paths) {
    if (p === '-') {
      walk.inputs.push({ path: p, setAside: false });
      continue;
    }
    let st: Stats | null = null;
    try {
      st = statSync(p);
    } catch {
      // ingestInput reports the unreadable path
    }
    if (st?.isDirectory()) visitDir(p, st);
    else walk.inputs.push({ path: p, setAside: false });
  }
  return walk;
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function printResult(r: IngestResult): void {
  if (r.status === 'failed') {
    err(`error: ${r.error}\n`);
    return;
  }
  if (r.status === 'duplicate') {
    out(`${r.path}: already ingested (same content as ${r.duplicateOf}); nothing added\n`);
    return;
  }
  if (r.snapshot) {
    const sn = r.snapshot;
    out(`${r.path}: etcd-snapshot, ${sn.revisions} revisions of ${sn.keys} keys, ` +
      `${sn.dbSize} bytes of which ${sn.freePages * sn.pageSize} in ${sn.freePages} free pages; time: ${r.timeBases.join(', ')}` +
      `${r.issueCount ? `, ${r.issueCount} problems` : ''}\n`);
    for (const i of r.issues) err(`  ${r.path}: ${i.reason}\n`);
    return;
  }
  const bases = r.timeBases.filter((b) => b !== 'explicit');
  const assumed = bases.length ? `; times assumed: ${bases.join(', ')}` : '';
  const appended = r.appended
    ? ` appended ${r.appended.lines} lines (continues source #${r.appended.continues}, from line ${r.appended.firstLine}),`
    : '';
  out(
    `${r.path}: ${r.kind}${r.envelope ? ` (inside ${r.envelope} wrapper)` : ''},${appended} ${r.records} records, ${isoOrDash(r.firstMs)} → ${isoOrDash(r.lastMs)}${assumed}` +
      `${r.issueCount ? (r.issues.length > 0 && r.issues.every((i) => i.line === 0) ? `, ${r.issueCount} damaged part(s) reported` : `, ${r.issueCount} lines skipped`) : ''}\n`,
  );
  // A binary file's issue has no line (0): it names its byte offset or record itself.
  for (const i of r.issues) {
    err(i.line === 0 ? `  ${r.path}: ${i.reason}${i.excerpt ? `: ${i.excerpt.slice(0, 100)}` : ''}\n` : `  ${r.path}:${i.line}: skipped: ${i.reason}: ${i.excerpt.slice(0, 100)}\n`);
  }
  if (r.issueCount > r.issues.length) {
    err(`  … and ${r.issueCount - r.issues.length} more (etcd-forensics query "SELECT * FROM issues")\n`);
  }
}

const EVENT_NAMES: Record<string, string> = {
  'etcd.alarm.raised': 'alarm raised', 'etcd.alarm.disarmed': 'alarm disarmed', 'patroni.nospace': 'first NOSPACE error',
};

function hoursText(min: number): string {
  const a = Math.abs(min);
  return `${Math.floor(a / 60)}h${String(a % 60).padStart(2, '0')}m`;
}

function witnessText(w: TimeWitness): string {
  return `${w.path}:${w.line}${w.member ? ` (${w.member})` : ''} ${EVENT_NAMES[w.kind] ?? w.kind}`;
}

/** One paragraph: which two sources disagree, by how much, and the --tz (and commands) that reconcile them. */
function describeTimeDisagreement(d: TimeDisagreement): string {
  const s = d.suspect;
  const readAs = s.assumedTz ? `read in ${s.assumedTz}` : 'read as UTC (no --tz)';
  const fix = (w: TimeWitness, tz: string): string => `etcd-forensics sources rm ${w.sourceId} && etcd-forensics ingest --tz ${tz} ${w.path}`;
  let text = `time sanity: ${witnessText(s)} is ${hoursText(d.zoneShiftMin)} ${d.zoneShiftMin > 0 ? 'later' : 'earlier'} than ` +
    `${witnessText(d.reference)}: source #${s.sourceId}'s zone-less times were ${readAs}; --tz ${d.reconcileTz} would reconcile them (${fix(s, d.reconcileTz)})`;
  if (d.ambiguous) {
    const r = d.reference;
    const other = formatOffset(zoneOffsetMin(r.ms, r.assumedTz) - d.zoneShiftMin);
    text += `; both sources were read with an assumed zone, so it may instead be source #${r.sourceId} that needs --tz ${other}`;
  }
  return text;
}
