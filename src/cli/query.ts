import { openStore } from '../store/open.js';
import { UsageError } from '../errors.js';
import { writeBoxTable } from '../report/box-table.js';
import { safeJson } from '../report/terminal-safe.js';

export async function runQuery(sql: string, opts: { db: string; json?: boolean }): Promise<void> {
  const db = openStore(opts.db, { readonly: true });
  try {
    let stmt;
    try {
      stmt = db.prepare(sql);
    } catch (e) {
      throw new UsageError(`query: ${(e as Error).message}`);
    }
    if (!stmt.readonly || !stmt.reader) throw new UsageError('query: only read-only statements that return rows are allowed');
    if (opts.json) {
      const rows = stmt.all() as Record<string, unknown>[];
      process.stdout.write(`${safeJson(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
      return;
    }
    const cols = stmt.columns().map((c) => c.name);
    // Rows are kept as their cell text only (the table needs every row's width before the first line).
    const cells: (string | number | null)[][] = [];
    for (const r of stmt.raw(true).iterate() as IterableIterator<unknown[]>) cells.push(r.map(cellText));
    writeBoxTable(cols, cells, (chunk) => process.stdout.write(chunk));
    process.stdout.write('\n');
    process.stdout.write(`${cells.length} row${cells.length === 1 ? '' : 's'}\n`);
  } finally {
    db.close();
  }
}

function cellText(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  return String(v);
}
