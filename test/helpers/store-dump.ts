// Every row a store holds for its sources, to compare two ways of storing the same inputs.
import Database from 'better-sqlite3';

/**
 * Every row of every record table (those with a source_id), with the source's path instead of its id, in a
 * stable order; and the sources themselves (`sourceCols`).
 */
export function dumpStore(db: string, sourceCols = 'path, sha256, kind, member, size_bytes, records, issues, first_ts_ms, last_ts_ms, time_bases'): Record<string, unknown[]> {
  const d = new Database(db, { readonly: true });
  try {
    const tables = (d.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%source_id%'`).all() as { name: string }[])
      .map((t) => t.name);
    const out: Record<string, unknown[]> = {};
    for (const t of tables) {
      const cols = (d.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[])
        .map((c) => c.name).filter((c) => c !== 'id' && c !== 'source_id');
      out[t] = d.prepare(`SELECT s.path, ${cols.map((c) => `t.${c}`).join(', ')} FROM ${t} t JOIN sources s ON s.id = t.source_id
        ORDER BY s.path, ${cols.map((c) => `t.${c}`).join(', ')}`).raw().all();
    }
    out.sources = d.prepare(`SELECT ${sourceCols} FROM sources ORDER BY path`).raw().all();
    return out;
  } finally {
    d.close();
  }
}
