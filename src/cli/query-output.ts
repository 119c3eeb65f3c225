// The rows of `query`, written as they come: a box table or a JSON array, never the whole result in
// memory. stdout to a pipe is asynchronous in Node (a write queues in memory when the reader is slower),
// so the writer waits for 'drain' and says so through onPause/onResume (the --timeout does not count
// the time a reader such as `less` takes).
import { once } from 'node:events';
import { displayWidth, renderBoxTable, RULED_ROWS_MAX } from '../report/box-table.js';
import { safeJson, safeText } from './format.js';

export interface RowStreamHooks {
  onPause?: () => void;
  onResume?: () => void;
}

/** Bytes gathered before one write to stdout. */
const CHUNK = 64 * 1024;
/** A table block: rows (as the ruled table is drawn up to RULED_ROWS_MAX) and text held at most. */
const BLOCK_ROWS = RULED_ROWS_MAX;
const BLOCK_CHARS = 8 * 1024 * 1024;

class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly hooks: RowStreamHooks) {}

  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (process.stdout.write(text)) return;
    this.hooks.onPause?.();
    await once(process.stdout, 'drain');
    this.hooks.onResume?.();
  }
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return safeText(v);
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  return String(v);
}

/** The rows as `safeJson` would print the whole array (2-space indent), one row at a time. */
export async function writeJsonRows(columns: string[], rows: Iterable<unknown[]>, hooks: RowStreamHooks = {}): Promise<void> {
  const out = new Output(hooks);
  let n = 0;
  for (const r of rows) {
    const o: Record<string, unknown> = {};
    columns.forEach((c, i) => { o[c] = r[i]; });
    const text = safeJson(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).replace(/\n/g, '\n  ');
    await out.write(`${n++ === 0 ? '[\n' : ',\n'}  ${text}`);
  }
  await out.write(n === 0 ? '[]\n' : '\n]\n');
  await out.flush();
}

/**
 * A box table. Up to RULED_ROWS_MAX rows it is the table every command draws (writeBoxTable). Longer, it
 * is drawn in blocks as the rows come (as psql does with FETCH_COUNT): the widths are those of the rows
 * seen so far, and a block with a wider value widens the columns and repeats the header there.
 */
export async function writeTableRows(columns: string[], rows: Iterable<unknown[]>, hooks: RowStreamHooks = {}): Promise<void> {
  const out = new Output(hooks);
  const head = columns.map(safeText);
  let block: string[][] = [];
  let chars = 0;
  let count = 0;
  let widths: number[] | null = null;
  for (const r of rows) {
    const cells = r.map(cellText);
    block.push(cells);
    count++;
    for (const c of cells) chars += c.length;
    if (block.length > BLOCK_ROWS || chars > BLOCK_CHARS) {
      widths = await writeBlock(out, head, block, widths);
      block = [];
      chars = 0;
    }
  }
  if (widths === null) {
    await out.write(renderBoxTable(head, block)); // at most BLOCK_ROWS rows and BLOCK_CHARS
  } else {
    widths = await writeBlock(out, head, block, widths);
    await out.write(`\n${rule(widths, '└', '┴', '┘')}`);
  }
  await out.write(`\n${count} row${count === 1 ? '' : 's'}\n`);
  await out.flush();
}

function rule(widths: number[], left: string, mid: string, right: string): string {
  return `${left}${widths.map((w) => '─'.repeat(w + 2)).join(mid)}${right}`;
}

function line(widths: number[], cells: string[]): string {
  return `│${widths.map((w, i) => { const c = cells[i] ?? ''; return ` ${c}${' '.repeat(w - displayWidth(c))} `; }).join('│')}│`;
}

/** One block of a long table; returns the widths in force after it. */
async function writeBlock(out: Output, head: string[], block: string[][], before: number[] | null): Promise<number[]> {
  const widths = (before ?? head.map(displayWidth)).slice();
  for (const cells of [head, ...block]) cells.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, displayWidth(c)); });
  if (before === null) {
    await out.write(`${rule(widths, '┌', '┬', '┐')}\n${line(widths, head)}\n${rule(widths, '├', '┼', '┤')}`);
  } else if (widths.some((w, i) => w !== before[i])) {
    await out.write(`\n${rule(widths, '├', '┼', '┤')}\n${line(widths, head)}\n${rule(widths, '├', '┼', '┤')}`);
  }
  for (const cells of block) await out.write(`\n${line(widths, cells)}`);
  return widths;
}
