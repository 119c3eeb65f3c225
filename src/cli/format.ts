// Small shared helpers for printing: tables with cli-table3, times in UTC.
import Table from 'cli-table3';

export function renderTable(head: string[], rows: (string | number | null)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === null ? '' : String(c))));
  return t.toString();
}

export function isoOrDash(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}
