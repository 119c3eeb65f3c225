// Small shared helpers for printing: tables (box-drawn, every cell made terminal-safe), message lines
// made terminal-safe, times in UTC.
import { writeFileSync } from 'node:fs';
import { renderBoxTable, type BoxCell } from '../report/box-table.js';
import { InputError } from '../errors.js';
import { safeText } from '../report/terminal-safe.js';
export { safeText, safeJson } from '../report/terminal-safe.js';

export function renderTable(head: string[], rows: Iterable<readonly BoxCell[]>): string {
  return renderBoxTable(head, rows);
}

/**
 * One message line: everything but the final newline passes safeText(), so a file name, a reason or
 * an excerpt from the data cannot move the cursor, clear the screen or start a second line.
 */
export function safeLine(line: string): string {
  return line.endsWith('\n') ? `${safeText(line.slice(0, -1))}\n` : safeText(line);
}

/** Text of several lines we wrote (help, a stack): each line passes safeText(), the line breaks stay. */
export function safeLines(text: string): string {
  return text.split('\n').map(safeText).join('\n');
}

/** Write one message line to stdout / stderr through safeLine(). */
export const out = (line: string): boolean => process.stdout.write(safeLine(line));
export const err = (line: string): boolean => process.stderr.write(safeLine(line));

export function isoOrDash(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

/** A rendered report to stdout, or to `-o FILE` with one line on stderr saying where and how big. */
export function writeReport(doc: string, output: string | undefined, format: string): void {
  if (!output) {
    process.stdout.write(doc);
    return;
  }
  try {
    writeFileSync(output, doc);
  } catch (e) {
    throw new InputError(`-o ${output}: cannot write the report (${(e as Error).message})`);
  }
  process.stderr.write(safeLine(`wrote ${output} (${format}, ${Buffer.byteLength(doc)} bytes)\n`));
}
