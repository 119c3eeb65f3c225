import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bulkWriteMode, openStore } from '../store/open.js';
import { ingestInput, type IngestResult } from '../ingest/ingest-file.js';
import { isValidZone, parseTimestamp } from '../units/time.js';
import { SOURCE_KINDS, type SourceKind } from '../model.js';
import { UsageError } from '../errors.js';
import { isoOrDash } from './format.js';
import { EXIT } from './exit-codes.js';
import { createProgress } from './progress.js';

interface IngestCliOptions {
  db: string;
  kind?: string;
  tz?: string;
  member?: string;
  at?: string;
  strict?: boolean;
}

export async function runIngest(paths: string[], opts: IngestCliOptions): Promise<void> {
  if (opts.kind && !SOURCE_KINDS.includes(opts.kind as SourceKind)) {
    throw new UsageError(`--kind ${opts.kind}: expected one of ${SOURCE_KINDS.join(', ')}`);
  }
  if (opts.tz && !isValidZone(opts.tz)) throw new UsageError(`--tz ${opts.tz}: not a time zone (try Asia/Shanghai or +08:00)`);
  let atMs: number | null = null;
  if (opts.at) {
    const t = parseTimestamp(opts.at, { tz: opts.tz ?? null });
    if (!t) throw new UsageError(`--at ${opts.at}: expected an ISO-8601 time such as 2023-09-26T15:42:00+08:00`);
    atMs = t.ms;
  }
  const db = openStore(opts.db);
  const restoreWal = bulkWriteMode(db);
  let failed = false;
  try {
    for (const p of expandPaths(paths)) {
      const progress = createProgress(p === '-' ? null : fileSize(p), p);
      const r = await ingestInput(db, p, {
        kind: (opts.kind as SourceKind | undefined) ?? null, tz: opts.tz ?? null, member: opts.member ?? null,
        atMs, strict: opts.strict ?? false, onBytes: progress.update,
      }).finally(() => progress.stop());
      printResult(r);
      if (r.status === 'failed' || r.issueCount > 0) failed = true;
    }
  } finally {
    restoreWal();
    db.close();
  }
  if (failed) process.exitCode = EXIT.input;
}

function fileSize(p: string): number | null {
  try {
    return statSync(p).size;
  } catch {
    return null;
  }
}

/** Directories expand recursively, in name order, so runs are repeatable. */
function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      out.push(p); // ingestInput reports the unreadable path
      return;
    }
    if (!isDir) {
      out.push(p);
      return;
    }
    for (const name of readdirSync(p).sort()) walk(join(p, name));
  };
  for (const p of paths) (p === '-' ? out.push(p) : walk(p));
  return out;
}

function printResult(r: IngestResult): void {
  if (r.status === 'failed') {
    process.stderr.write(`error: ${r.error}\n`);
    return;
  }
  if (r.status === 'duplicate') {
    process.stdout.write(`${r.path}: already ingested (same content as ${r.duplicateOf}); nothing added\n`);
    return;
  }
  if (r.snapshot) {
    const sn = r.snapshot;
    process.stdout.write(`${r.path}: etcd-snapshot, ${sn.revisions} revisions of ${sn.keys} keys, ` +
      `${sn.dbSize} bytes of which ${sn.freePages * sn.pageSize} in ${sn.freePages} free pages; time: ${r.timeBases.join(', ')}` +
      `${r.issueCount ? `, ${r.issueCount} problems` : ''}\n`);
    for (const i of r.issues) process.stderr.write(`  ${r.path}: ${i.reason}\n`);
    return;
  }
  const bases = r.timeBases.filter((b) => b !== 'explicit');
  const assumed = bases.length ? `; times assumed: ${bases.join(', ')}` : '';
  process.stdout.write(
    `${r.path}: ${r.kind}, ${r.records} records, ${isoOrDash(r.firstMs)} → ${isoOrDash(r.lastMs)}${assumed}` +
      `${r.issueCount ? `, ${r.issueCount} lines skipped` : ''}\n`,
  );
  for (const i of r.issues) process.stderr.write(`  ${r.path}:${i.line}: skipped: ${i.reason}: ${i.excerpt.slice(0, 100)}\n`);
  if (r.issueCount > r.issues.length) {
    process.stderr.write(`  … and ${r.issueCount - r.issues.length} more (etcd-forensics query "SELECT * FROM issues")\n`);
  }
}
