// Lines that fit a terminal width without changing what they mean: prose wraps at spaces, a shell
// command continues with ` \` (still one command when pasted), a YAML line folds into a continuation
// line (checked: the folded YAML parses to the same value, else it is left as it was).
import { parse as parseYaml } from 'yaml';
import { isDeepStrictEqual } from 'node:util';
import { displayWidth, wrapText } from './box-table.js';

/** Prose: `first` prefixes the first line, `rest` the others (a hanging indent). */
export function wrapProse(text: string, width: number, first: string, rest: string = ' '.repeat(first.length)): string[] {
  if (!Number.isFinite(width)) return [`${first}${text}`];
  const lines = wrapText(text, Math.max(10, width - rest.length), Math.max(10, width - first.length));
  // A first line left empty (its first word did not fit after the prefix) keeps the prefix alone.
  return lines.map((l, i) => (i === 0 ? `${first}${l}`.trimEnd() : `${rest}${l}`));
}

/**
 * A shell command over several lines: broken at spaces outside quotes, every line but the last ending in
 * ` \`, continuations indented. A token longer than the line breaks with a bare `\` newline and the
 * continuation at column 0 (bash removes backslash-newline outside single quotes, inside double quotes
 * too), never inside single quotes.
 */
export function wrapShell(command: string, width: number, indent: string): string[] {
  if (!Number.isFinite(width) || indent.length + displayWidth(command) <= width) return [`${indent}${command}`];
  const tokens = shellTokens(command);
  // A comment (`# …`, a word of its own) ends at the line's end: a ` \` inside it would not continue the
  // command, so it goes on lines of its own above the command.
  const hash = tokens.findIndex((t) => t.startsWith('#'));
  if (hash >= 0) {
    const note = wrapProse(tokens.slice(hash).join(' ').replace(/^#+\s*/, ''), width, `${indent}# `);
    return [...note, ...(hash > 0 ? wrapShell(tokens.slice(0, hash).join(' '), width, indent) : [])];
  }
  const cont = `${indent}    `;
  const lines: string[] = [];
  let cur = indent;
  for (const token of tokens) {
    const lead = cur.trim() === '' ? '' : ' ';
    if (displayWidth(cur) + lead.length + displayWidth(token) + 2 <= width) { cur += lead + token; continue; }
    if (cur.trim() !== '') { lines.push(`${cur} \\`); cur = cont; }
    if (displayWidth(cur) + displayWidth(token) + 2 <= width) { cur += token; continue; }
    const pieces = breakToken(token, width - displayWidth(cur) - 1, width - 1);
    if (pieces.length === 1) { cur += token; continue; } // all inside single quotes: it cannot break
    lines.push(`${cur}${pieces[0]}\\`, ...pieces.slice(1, -1).map((p) => `${p}\\`));
    cur = pieces[pieces.length - 1]!;
  }
  lines.push(cur);
  return lines;
}

/** Words of a command split at spaces outside single and double quotes. */
function shellTokens(command: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote === null && ch === '\\' && i + 1 < command.length) { cur += ch + command[++i]!; continue; }
    if (quote === null && (ch === '"' || ch === "'")) quote = ch;
    else if (quote === ch) quote = null;
    else if (quote === '"' && ch === '\\' && i + 1 < command.length) { cur += ch + command[++i]!; continue; }
    if (quote === null && ch === ' ') {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** A token in pieces of at most `firstRoom`, then `room` characters, cut only outside single quotes and never after a backslash. */
function breakToken(token: string, firstRoom: number, room: number): string[] {
  const pieces: string[] = [];
  let cur = '';
  let inSingle = false;
  let inDouble = false;
  let limit = Math.max(1, firstRoom);
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (cur.length >= limit && !inSingle && !cur.endsWith('\\') && !(inDouble && ch === ' ')) {
      // Prefer to cut after the last `,` (an endpoint list) in the second half of the piece.
      const comma = cur.lastIndexOf(',');
      const at = comma >= limit / 2 && !inDouble && !/['"]/.test(cur.slice(comma + 1)) ? comma + 1 : cur.length;
      pieces.push(cur.slice(0, at));
      cur = cur.slice(at);
      limit = Math.max(1, room);
    }
    if (ch === "'" && !inDouble) inSingle = !inSingle;
    else if (ch === '"' && !inSingle) inDouble = !inDouble;
    cur += ch;
  }
  pieces.push(cur);
  return pieces;
}

/**
 * YAML text whose long `key: value` lines fold onto indented continuation lines (a plain or quoted
 * scalar, a flow mapping), kept only if the result parses to the same value; otherwise the text as is.
 */
export function wrapYaml(text: string, width: number, indent: string): string[] {
  const lines = text.split('\n');
  if (!Number.isFinite(width) || lines.every((l) => indent.length + displayWidth(l) <= width)) return lines.map((l) => `${indent}${l}`);
  const folded: string[] = [];
  for (const l of lines) {
    const m = /^(\s*(?:- )?)([^\s:][^:]*: )(.*)$/.exec(l);
    if (!m || indent.length + displayWidth(l) <= width) { folded.push(l); continue; }
    const lead = m[1]!.replace(/- $/, '  ');
    const cont = `${lead}    `;
    const room = Math.max(10, width - indent.length - cont.length);
    const firstRoom = Math.max(10, width - indent.length - m[1]!.length - m[2]!.length);
    const parts = wrapText(m[3]!, Math.min(firstRoom, room));
    const rewrapped = parts.length > 1 ? [parts[0]!, ...wrapText(parts.slice(1).join(' '), room)] : parts;
    folded.push(`${m[1]}${m[2]}${rewrapped[0]}`, ...rewrapped.slice(1).map((p) => `${cont}${p}`));
  }
  try {
    if (!isDeepStrictEqual(parseYaml(folded.join('\n')), parseYaml(text))) return lines.map((l) => `${indent}${l}`);
  } catch {
    return lines.map((l) => `${indent}${l}`);
  }
  return folded.map((l) => `${indent}${l}`);
}
