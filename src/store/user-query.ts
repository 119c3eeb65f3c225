// A statement a person typed (`etcd-forensics query`): checked to be one read-only statement that returns
// rows, then run with every value bounded, one row at a time. The store is open read-only and query_only;
// what is refused here is refused before it runs.
import type Database from 'better-sqlite3';
import type { Db } from './open.js';
import { UsageError } from '../errors.js';

/**
 * PRAGMAs that only read the schema or the file's figures. Any other (`PRAGMA hard_heap_limit`, anything
 * with `=`) is refused: a PRAGMA can change the connection even on a read-only store.
 */
const READING_PRAGMAS = new Set([
  'application_id', 'collation_list', 'compile_options', 'database_list', 'encoding', 'foreign_key_list',
  'freelist_count', 'function_list', 'index_info', 'index_list', 'index_xinfo', 'integrity_check', 'journal_mode',
  'module_list', 'page_count', 'page_size', 'pragma_list', 'quick_check', 'schema_version', 'table_info',
  'table_list', 'table_xinfo', 'user_version',
]);

/** A row holds at most this many bytes in all; one value at most this share of it (and 16 MiB). */
export const MAX_ROW_BYTES = 256 * 1024 * 1024;
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

export interface UserQuery {
  columns: string[];
  /** The rows as arrays of values, each value within maxValueBytes; throws a UsageError at a value over it. */
  rows: () => IterableIterator<unknown[]>;
  maxValueBytes: number;
}

/** Leading blanks and comments taken off, so that the first word is the statement's. */
function statementHead(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.replace(/^\s+/, '');
    if (t.startsWith('--')) s = t.slice(t.indexOf('\n') === -1 ? t.length : t.indexOf('\n'));
    else if (t.startsWith('/*')) s = t.slice(t.indexOf('*/') === -1 ? t.length : t.indexOf('*/') + 2);
    else return t;
  }
}

/** Refusals that need no SQLite: extensions, and PRAGMAs that are not in READING_PRAGMAS. */
export function refuseStatementText(sql: string): void {
  if (/\bload_extension\s*\(/i.test(sql)) {
    throw new UsageError('query: load_extension is refused (the store is queried with SQLite\'s own functions only)');
  }
  const head = statementHead(sql);
  if (/^pragma\b/i.test(head)) {
    const m = /^pragma\s+(?:main\s*\.\s*)?([a-z_]+)\s*(\(\s*[\w"'.]*\s*\))?\s*;?\s*$/i.exec(head);
    if (!m || !READING_PRAGMAS.has(m[1]!.toLowerCase())) {
      throw new UsageError(`query: this PRAGMA is refused; only PRAGMAs that read are run (${[...READING_PRAGMAS].join(', ')})`);
    }
  }
}

/** Prepares the statement, refusing anything but one read-only statement that returns rows. */
export function prepareUserQuery(db: Db, sql: string): UserQuery {
  refuseStatementText(sql);
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(sql);
  } catch (e) {
    throw new UsageError(`query: ${(e as Error).message}`);
  }
  if (!stmt.readonly || !stmt.reader) {
    throw new UsageError('query: only read-only statements that return rows are run (no INSERT, UPDATE, DELETE, ATTACH, VACUUM or PRAGMA writes)');
  }
  const columns = stmt.columns().map((c) => c.name);
  const maxValueBytes = Math.max(1024, Math.min(MAX_VALUE_BYTES, Math.floor(MAX_ROW_BYTES / columns.length)));
  const bounded = boundedStatement(db, sql, columns.length, maxValueBytes);
  const rows = bounded
    ? () => checkedRows(bounded.raw(true).iterate() as IterableIterator<unknown[]>, columns, maxValueBytes)
    : () => measuredRows(stmt.raw(true).iterate() as IterableIterator<unknown[]>, columns, maxValueBytes);
  return { columns, rows, maxValueBytes };
}

/**
 * The statement inside a CTE whose columns are named by position (so duplicate names do not matter),
 * each value over the bound replaced by NULL inside SQLite and flagged in two extra columns (which
 * column, how many bytes): a 500 MB printf() never becomes a JavaScript string. The middle
 * `LIMIT -1 OFFSET 0` keeps SQLite from flattening the statement into the outer SELECT (flattening rule
 * 14: a subquery with OFFSET is not flattened), so it runs as a co-routine and each value is computed
 * once: flattened, the four references to a column evaluated its expression four times (a counting
 * function showed 23440 calls for 5860 rows). Rows stay in the statement's order and are streamed.
 * A statement that cannot stand inside a CTE (EXPLAIN, a PRAGMA) returns null and is measured after
 * each row instead.
 */
function boundedStatement(db: Db, sql: string, n: number, max: number): Database.Statement | null {
  if (/^(pragma|explain)\b/i.test(statementHead(sql))) return null;
  const c = Array.from({ length: n }, (_, i) => `c${i}`);
  const size = (x: string): string => `octet_length(${x})`;
  const kept = c.map((x) => `CASE WHEN ${size(x)} > ${max} THEN NULL ELSE ${x} END`);
  const which = `CASE ${c.map((x, i) => `WHEN ${size(x)} > ${max} THEN ${i}`).join(' ')} ELSE -1 END`;
  const bytes = `CASE ${c.map((x) => `WHEN ${size(x)} > ${max} THEN ${size(x)}`).join(' ')} ELSE 0 END`;
  try {
    // The newline ends a trailing `-- comment`; a trailing `;` cannot stand inside the parentheses.
    return db.prepare(`WITH ef_user_query(${c.join(', ')}) AS (\n${sql.replace(/[\s;]+$/, '')}\n)\nSELECT ${kept.join(', ')}, ${which}, ${bytes}\n` +
      'FROM (SELECT * FROM ef_user_query LIMIT -1 OFFSET 0)');
  } catch {
    return null;
  }
}

function* checkedRows(it: IterableIterator<unknown[]>, columns: string[], max: number): IterableIterator<unknown[]> {
  let row = 0;
  for (const r of it) {
    row++;
    const which = r[columns.length] as number;
    if (which >= 0) throw oversized(row, columns[which]!, r[columns.length + 1] as number, max);
    r.length = columns.length;
    yield r;
  }
}

function* measuredRows(it: IterableIterator<unknown[]>, columns: string[], max: number): IterableIterator<unknown[]> {
  let row = 0;
  for (const r of it) {
    row++;
    r.forEach((v, i) => {
      const n = typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 0;
      if (n > max) throw oversized(row, columns[i]!, n, max);
    });
    yield r;
  }
}

function oversized(row: number, column: string, bytes: number, max: number): UsageError {
  return new UsageError(`query: row ${row}, column ${column}: a value of ${bytes} bytes, over the ${max} bytes a value may have here; ` +
    `select a part of it (substr(${column}, 1, 1000)) or its length`);
}
