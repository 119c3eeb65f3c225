import { openStore } from '../store/open.js';
import { UsageError } from '../errors.js';
import { renderTable } from './format.js';

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
    const rows = stmt.all() as Record<string, unknown>[];
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
      return;
    }
    const cols = stmt.columns().map((c) => c.name);
    process.stdout.write(`${renderTable(cols, rows.map((r) => cols.map((c) => cellText(r[c]))))}\n`);
    process.stdout.write(`${rows.length} row${rows.length === 1 ? '' : 's'}\n`);
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
