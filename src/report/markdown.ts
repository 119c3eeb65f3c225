// The analysis as a Markdown document that renders on GitHub: a summary paragraph, tables, copy-paste
// flags/YAML/commands in fenced blocks, and the evidence behind every figure. Data never reaches the
// document raw: table cells go through cell(), prose through text(), blocks through fenced().
import type { AnalysisReport, Evidence, Incident, Recommendation } from '../analyze/types.js';
import { humanizeBytes } from '../units/sizes.js';
import { uniqueEvidence } from './evidence.js';
import { ALARM_INTERVAL_HEADER, alarmIntervalRows, recoveryFacts } from './incident-facts.js';
import { safeText } from './terminal-safe.js';

/**
 * Data as one line of Markdown source: a line break (LF or CRLF) becomes a space, as it always did here;
 * every other control character, a lone CR included, becomes a visible escape (safeText: CR → `\r`,
 * ESC → `\x1b`), so it can neither end a GFM table row (cmark-gfm and markdown-it end a line at a
 * lone CR) nor reach the reader's terminal.
 */
function oneLine(s: string): string {
  return safeText(s.replace(/\r?\n/g, ' '));
}

/** Prose from the data: one line (oneLine), then backslash-escape what Markdown or inline HTML would act on. */
export function text(s: string | number | null | undefined): string {
  return oneLine(String(s ?? '-')).replace(/[\\`*_[\]<>|&#~]/g, '\\$&');
}

/** A table cell: like text(), and a cell never breaks the row. */
export function cell(s: string | number | null | undefined): string {
  return text(s);
}

/** A fenced block whose fence is longer than any backtick run inside it. */
export function fenced(lang: string, rawBody: string): string {
  const body = rawBody.split('\n').map(safeText).join('\n');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

/** A value shown verbatim (a key, a PromQL expression, a file:line) in a code span. */
export interface Code { code: string }
const code = (s: string | null): Code | null => (s === null ? null : { code: s });

/** The longest run of backticks in s (a loop: a spread over every run overflows the stack on a huge key). */
function longestBacktickRun(s: string): number {
  let longest = 0;
  for (let i = s.indexOf('`'); i >= 0; i = s.indexOf('`', i)) {
    let j = i;
    while (s.charCodeAt(j) === 0x60) j++;
    if (j - i > longest) longest = j - i;
    i = j;
  }
  return longest;
}

/** An inline code span: a delimiter longer than any backtick run inside; control characters as visible escapes. */
export function codeSpan(raw: string): string {
  const s = oneLine(raw); // inside a code span a backslash is literal: `\r` shows as typed
  if (s === '') return '` `';
  const delim = '`'.repeat(longestBacktickRun(s) + 1);
  const pad = s.startsWith('`') || s.endsWith('`') || s.startsWith(' ') ? ' ' : '';
  return `${delim}${pad}${s}${pad}${delim}`;
}

/**
 * A code span for a table cell: like codeSpan() with `|` escaped (GFM splits the row before it parses
 * the span). A backslash just before a `|` would escape that escape, and a code span cannot escape a
 * backslash, so such a value is shown as escaped prose instead.
 */
export function codeCell(raw: string): string {
  const s = oneLine(raw);
  if (s.includes('\\|')) return cell(raw);
  return codeSpan(raw).replace(/\|/g, '\\|');
}

type MdCell = string | number | null | Code;
const renderCell = (c: MdCell): string => (c !== null && typeof c === 'object' ? codeCell(c.code) : cell(c));

export function mdTable(head: string[], rows: MdCell[][]): string {
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(renderCell).join(' | ')} |`)].join('\n');
}

const bytes = (n: number | null, approx = false): string =>
  (n === null ? '-' : `${humanizeBytes(Math.max(0, n))}${approx ? ' (approx.)' : ''} (${n} B)`);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function evidenceList(list: Evidence[]): string {
  const lines = uniqueEvidence(list).map((e) => `- **${text(e.source)}** (${text(e.completeness)}): ${text(e.detail)}`);
  return lines.length ? `**Evidence**\n\n${lines.join('\n')}` : '**Evidence**: none in the store.';
}

/** The summary paragraph as plain text (each renderer escapes it). */
export function summarizeReport(r: AnalysisReport): string {
  const { incident: i, growth: g, projection: p, churn: c } = r;
  const s: string[] = [];
  if (i.nospaceAt) {
    s.push(`etcd raised the NOSPACE alarm at ${i.nospaceAt}` +
      `${i.revisionAtNospace !== null ? ` at revision ${i.revisionAtNospace}` : ''}` +
      `${i.dbSizeAtNospace !== null ? ` with a DB of ${bytes(i.dbSizeAtNospace, i.dbSizeAtNospaceApprox)}` : ''}` +
      `, against a quota of ${bytes(p.quotaBytes)} (${p.quotaSource.source}, ${p.quotaSource.completeness}).`);
    const compacted = r.timeline.some((e) => e.kind.startsWith('etcd.compaction') && e.at !== null && e.at < i.nospaceAt!);
    s.push(`Root cause: the history etcd keeps until it is compacted grew until the physical DB reached the quota; ` +
      `${compacted ? 'compaction ran before the alarm but did not keep up' : 'no compaction is recorded before the alarm'}.`);
  } else if (i.nospaceUntimedSource) {
    s.push(`NOSPACE is in the data (at ${i.nospaceUntimedSource}) but no record of it has a time; the quota is ${bytes(p.quotaBytes)} (${p.quotaSource.source}, ${p.quotaSource.completeness}).`);
  } else {
    s.push(`No NOSPACE alarm is in the data; the quota is ${bytes(p.quotaBytes)} (${p.quotaSource.source}, ${p.quotaSource.completeness}).`);
  }
  if (g.revisionsPerHour !== null) {
    s.push(`Writes ran at ${g.revisionsPerHour} revisions/h` +
      `${g.bytesPerRevision !== null ? ` at ${g.bytesPerRevision} bytes/revision` : ''}` +
      `${g.bytesPerHour !== null ? `, ${humanizeBytes(Math.max(0, g.bytesPerHour))}/h of DB growth (${g.bytesPerHour} B/h)` : ''} (${g.method ?? 'no method'}).`);
  }
  const top = c.groups[0];
  if (c.top && top) {
    s.push(`The top churning key group is ${top.group} (${top.rule}): ${top.revisions} revisions, ${pct(top.share)} of the counted writes (${top.evidence.completeness}).`);
  }
  if (i.recoveredAt) s.push(`Recovered at ${i.recoveredAt} (no member held the alarm and writes succeeded).`);
  else if (i.alarmClearedAt) s.push(`The alarm was disarmed at ${i.alarmClearedAt}, but no record shows a write succeeding after it.`);
  if (i.reRaises.length) s.push(`NOSPACE was raised again after a disarm by ${i.reRaises.map((r) => r.member).join(', ')}.`);
  if (p.reached) s.push(`At the last sample (${p.lastSampleAt ?? '-'}) the quota was already reached.`);
  else if (p.etaAt) s.push(`At the measured rate the quota is reached at ${p.etaAt} (95% interval ${p.etaLow ?? '-'} … ${p.etaHigh ?? '-'}), from ${bytes(p.lastSizeBytes)} at ${p.lastSampleAt ?? '-'}.`);
  else s.push('No quota projection could be made from the data.');
  return s.join(' ');
}

function incidentTable(i: Incident): string {
  return mdTable(['fact', 'value'], [
    ['NOSPACE at', i.nospaceAt], ['first Patroni DCS error', i.firstDcsErrorAt], ...recoveryFacts(i),
    ['revision at NOSPACE', i.revisionAtNospace], ['DB size at NOSPACE', bytes(i.dbSizeAtNospace, i.dbSizeAtNospaceApprox)],
    ...i.members.map((m) => [`alarm seen by ${m.member}`, m.nospaceAt]),
  ]) + (i.alarmIntervals.length ? `\n\n${mdTable(ALARM_INTERVAL_HEADER, alarmIntervalRows(i))}` : '');
}

function recommendation(rec: Recommendation): string {
  const parts = [`### ${text(rec.title)}`, `\`${rec.id.replace(/`/g, '')}\`: ${text(rec.rationale)}`];
  if (rec.etcdFlags.length) parts.push('etcd flags:', fenced('sh', rec.etcdFlags.join(' \\\n')));
  if (rec.configYaml) parts.push(rec.configYaml.startsWith('groups:') ? 'Prometheus rule file:' : 'etcd configuration file:', fenced('yaml', rec.configYaml));
  if (rec.commands.length) parts.push('Commands:', fenced('sh', rec.commands.join('\n')));
  return parts.join('\n\n');
}

export function renderMarkdown(r: AnalysisReport): string {
  const { incident: i, churn: c, growth: g, projection: p } = r;
  const out: string[] = ['# etcd NOSPACE report'];
  if (r.until) out.push(`_Analysis of what was known at ${text(r.until)} (\`--until\`). All times are UTC._`);
  else out.push('_All times are UTC._');
  out.push('## Verdict', verdictMarkdown(r));
  out.push('## Summary', text(summarizeReport(r)));
  out.push('## Incident', incidentTable(i), evidenceList(i.evidence));
  out.push('## Timeline', r.timeline.length === 0 ? 'No events in the store.' : mdTable(['at', 'member', 'event', 'count', 'summary', 'source'],
    r.timeline.map((e) => [e.at, e.member, e.kind, e.count, e.summary, code(e.source)])));
  out.push('## Refused writes', refusedMarkdown(r));
  out.push('## Key churn');
  if (c.groups.length === 0) out.push('No key-level evidence in the store.');
  else {
    out.push(`Top group: ${c.top === null ? '-' : codeSpan(c.top)}`, '### Key groups', mdTable(['key group', 'rule', 'keys', 'revisions', 'per hour', 'share', 'evidence'],
      c.groups.map((x) => [code(x.group), x.rule, x.keys, x.revisions, x.perHour, pct(x.share), `${x.evidence.source}, ${x.evidence.completeness}`])));
    out.push('### Keys', mdTable(['key', 'group', 'revisions', 'per hour', 'share', 'evidence'],
      c.keys.map((k) => [code(k.key), code(k.group), k.revisions, k.perHour, pct(k.share), `${k.evidence.source}, ${k.evidence.completeness}`])));
  }
  out.push(evidenceList([...c.evidence, ...c.groups.map((x) => x.evidence), ...c.keys.map((k) => k.evidence)]));
  out.push('## Growth', mdTable(['measure', 'value'], [
    ['revisions per hour', g.revisionsPerHour], ['revisions per second', g.revisionsPerSecond], ['bytes per revision', g.bytesPerRevision],
    ['DB bytes per hour', g.bytesPerHour === null ? null : `${humanizeBytes(Math.max(0, g.bytesPerHour))}/h (${g.bytesPerHour} B/h)`],
    ['95% interval (bytes/h)', g.bytesPerHourLow === null ? null : `${g.bytesPerHourLow} … ${g.bytesPerHourHigh}`], ['method', g.method],
  ]));
  if (g.members.length) {
    out.push(mdTable(['member', 'samples', 'first size', 'last size'], g.members.map((m) => [m.member, m.samples, bytes(m.firstSizeBytes), bytes(m.lastSizeBytes)])));
  }
  out.push(evidenceList(g.evidence));
  out.push('## Quota projection', mdTable(['fact', 'value'], [
    ['quota', bytes(p.quotaBytes)], ['last physical size', bytes(p.lastSizeBytes)], ['last sample', p.lastSampleAt],
    ['quota reached by', p.reached ? `already reached (${p.etaAt ?? 'before the data'})` : p.etaAt],
    ['95% interval', p.etaLow ? `${p.etaLow} … ${p.etaHigh}` : null], ['method', p.method],
  ]), evidenceList([p.quotaSource, ...p.evidence]));
  out.push('## Hindsight: would the etcd mixin alerts have fired?', mdTable(['rule', 'expr', 'first fired', 'warning before NOSPACE', 'note'],
    r.hindsight.map((a) => [a.rule, code(a.expr), a.firstFiredAt, a.warningBeforeNospace, a.note])));
  if (r.snapshotFiles.length) {
    out.push('## Snapshot page accounting', mdTable(['file', 'DB size', 'in use', 'free pages', 'key revisions', 'findings'],
      r.snapshotFiles.map((f) => [code(f.path), bytes(f.dbSizeBytes), bytes(f.dbSizeInUseBytes), `${f.freePages} (${(f.freeShare * 100).toFixed(1)}%)`,
        `${f.keyRevisions} of ${f.distinctKeys} keys (${f.evidence.completeness})`, f.findings.join(' ')])));
  }
  if (r.snapshots.length) {
    out.push('## Snapshot readings', mdTable(['at', 'hash', 'revision', 'total keys', 'total size', 'bytes/entry', 'reading', 'source'],
      r.snapshots.map((s) => [s.at, s.hash, s.revision, s.totalKeys, bytes(s.totalSizeBytes, s.totalSizeApprox), s.bytesPerEntry, s.interpretation, code(s.source)])));
  }
  out.push('## Recommendations', ...r.recommendations.map(recommendation));
  out.push('## Assumptions', r.assumptions.length ? r.assumptions.map((a) => `- ${text(a)}`).join('\n') : 'None.');
  return `${out.join('\n\n')}\n`;
}

/** The on-call verdict (analyze/verdict.ts): headline, its lines, the first runbook step in a block. */
function verdictMarkdown(r: AnalysisReport): string {
  const v = r.verdict;
  return [`**${text(v.headline)}**`, v.lines.map((l) => `- ${text(l.text)}`).join('\n'), ...(v.command ? [fenced('sh', v.command)] : [])].join('\n\n');
}

/** Refused writes by key and error (analyze/refused-writes.ts). */
function refusedMarkdown(r: AnalysisReport): string {
  const w = r.refusedWrites;
  if (w.rows.length === 0) return 'None in the data.';
  return [mdTable(['key', 'who writes it', 'error', 'count', 'by member', 'first', 'last', 'first line'], w.rows.map((x) => [
    x.key === null ? x.write : code(x.key), x.client, x.error, x.count, x.members.map((m) => `${m.member ?? '?'} ${m.count}`).join(', '), x.firstAt, x.lastAt, code(x.source)])),
  ...(w.moreRows ? [`${w.moreRows} more key/error groups are in the store.`] : []), evidenceList(w.evidence)].join('\n\n');
}
