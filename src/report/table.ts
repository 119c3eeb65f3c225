// Terminal rendering of the analysis: the verdict first, then one section per analysis, each figure
// with its evidence. Given a width every line fits it (tables narrow their columns and wrap cells at
// words, prose wraps with a hanging indent, commands continue with ` \`); given a limit every section
// shows that many rows and says how many it left out and the flag that shows them.
import type { AnalysisReport, Evidence, Verdict } from '../analyze/types.js';
import { humanizeBytes } from '../units/sizes.js';
import { renderBoxTable } from './box-table.js';
import { safeText as safe } from './terminal-safe.js';
import { wrapProse, wrapShell, wrapYaml } from './text-wrap.js';
import { shortError } from '../analyze/verdict.js';

export type Section = 'verdict' | 'incident' | 'snapshots' | 'churn' | 'growth' | 'projection' | 'timeline' | 'refusedWrites' | 'hindsight' | 'recommendations' | 'assumptions';
export const ALL_SECTIONS: readonly Section[] = ['verdict', 'incident', 'snapshots', 'churn', 'growth', 'projection', 'hindsight', 'refusedWrites', 'timeline', 'recommendations', 'assumptions'];

/** Names `--section` takes (the short ones people type) and the section each means. */
export const SECTION_NAMES: Record<string, Section> = {
  verdict: 'verdict', incident: 'incident', snapshots: 'snapshots', snapshot: 'snapshots', churn: 'churn', growth: 'growth',
  projection: 'projection', project: 'projection', hindsight: 'hindsight', alerts: 'hindsight', refused: 'refusedWrites',
  'refused-writes': 'refusedWrites', refusedWrites: 'refusedWrites', timeline: 'timeline', recommend: 'recommendations',
  recommendations: 'recommendations', runbook: 'recommendations', assumptions: 'assumptions',
};

export interface RenderOptions {
  /** Columns every line fits in; Infinity (or absent): no limit. */
  width?: number;
  /** Rows per table (and evidence lines per section); Infinity (or absent): all. */
  limit?: number;
  /** ANSI colour for titles and the verdict's headline (a TTY without NO_COLOR). */
  color?: boolean;
  /** The zone times are shown in (--tz), named in the timeline's title; else UTC. */
  zone?: string | null;
}

/** Lines of the verdict at most (the on-call screen's first screenful). */
export const VERDICT_MAX_LINES = 15;

interface Ctx {
  width: number;
  limit: number;
  color: boolean;
  zone: string;
}

export function renderTables(r: AnalysisReport, sections: readonly Section[] = ALL_SECTIONS, opts: RenderOptions = {}): string {
  const c: Ctx = { width: opts.width ?? Infinity, limit: opts.limit ?? Infinity, color: opts.color ?? false, zone: opts.zone ?? 'UTC' };
  const out: string[] = [];
  if (r.until) out.push(...wrapProse(`Analysis of what was known at ${safe(r.until)} (--until)`, c.width, ''));
  for (const s of sections) out.push(RENDER[s](r, c));
  return `${out.filter(Boolean).join('\n\n')}\n`;
}

const SGR = { bold: '1', red: '1;31', yellow: '1;33', green: '1;32' } as const;
const paint = (c: Ctx, style: keyof typeof SGR, text: string): string => (c.color ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text);
const title = (c: Ctx, text: string): string => paint(c, 'bold', text);

// Every cell passes safeText() in renderBoxTable; prose from the data passes safe() here.
function table(c: Ctx, head: string[], rows: (string | number | null)[][], flag = '--limit N or --full'): string {
  const shown = rows.length > c.limit ? rows.slice(0, c.limit) : rows;
  const text = renderBoxTable(head, shown, '-', c.width);
  return shown.length < rows.length ? `${text}\n  … ${rows.length - shown.length} more row(s) (${flag})` : text;
}

function ev(c: Ctx, e: Evidence[]): string {
  const shown = e.length > c.limit ? e.slice(0, c.limit) : e;
  const lines = shown.flatMap((x) => wrapProse(safe(x.detail), c.width, `  evidence (${safe(x.source)}, ${safe(x.completeness)}): `, '    '));
  if (shown.length < e.length) lines.push(`  … ${e.length - shown.length} more evidence line(s) (--limit N or --full)`);
  return lines.join('\n');
}

const bytes = (n: number | null, approx = false): string => (n === null ? '-' : `${humanizeBytes(n)}${approx ? ' (approx.)' : ''} (${n} B)`);

/** Which verdict lines give way first when the verdict would pass VERDICT_MAX_LINES (higher: sooner). */
const GIVES_WAY: Record<Verdict['lines'][number]['kind'], number> = { action: 1, cause: 2, refused: 3, what: 4, sure: 5 };

/**
 * The verdict in at most VERDICT_MAX_LINES lines, each item wrapped. Over the cap, the item that gives
 * way first is cut a line at a time (ending in …), then dropped; the headline and the command never are
 * (a cut command could not be run).
 */
export function renderVerdict(v: Verdict, width: number, color: boolean): string {
  const c: Ctx = { width, limit: Infinity, color, zone: 'UTC' };
  const style = v.status === 'nospace' ? 'red' : v.status === 'growing' ? 'yellow' : v.status === 'bounded' || v.status === 'no-growth' ? 'green' : 'bold';
  const command = (): { lines: string[]; rank: number } => ({ lines: wrapShell(safe(v.command!), width, '    '), rank: 0 });
  const items: { lines: string[]; rank: number }[] = [{ lines: wrapProse(safe(v.headline), width, 'VERDICT  ', '  '), rank: 0 }];
  for (const l of v.lines) {
    if (l.kind === 'sure' && v.command) items.push(command());
    items.push({ lines: wrapProse(safe(l.text), width, '  ', '    '), rank: GIVES_WAY[l.kind] });
  }
  if (v.command && !v.lines.some((l) => l.kind === 'sure')) items.push(command());
  let total = items.reduce((s, it) => s + it.lines.length, 0);
  while (total > VERDICT_MAX_LINES) {
    const pick = (tall: boolean): number => {
      let k = -1;
      items.forEach((it, i) => { if (it.rank > 0 && (!tall || it.lines.length > 1) && (k < 0 || it.rank > items[k]!.rank)) k = i; });
      return k;
    };
    const k = pick(true) >= 0 ? pick(true) : pick(false);
    if (k < 0) break;
    const it = items[k]!;
    if (it.lines.length <= 1) { items.splice(k, 1); total--; continue; }
    it.lines.length--;
    it.lines[it.lines.length - 1] = `${it.lines[it.lines.length - 1]!.replace(/.$/u, '')}…`;
    total--;
  }
  const head = items[0]!.lines;
  head[0] = `${title(c, 'VERDICT')}  ${paint(c, style, head[0]!.slice('VERDICT  '.length))}`;
  return items.flatMap((it) => it.lines).join('\n');
}

const RENDER: Record<Section, (r: AnalysisReport, c: Ctx) => string> = {
  verdict: (r, c) => renderVerdict(r.verdict, c.width, c.color),
  incident: ({ incident: i }, c) => [
    title(c, 'INCIDENT'),
    table(c, ['fact', 'value'], [
      ['NOSPACE at', i.nospaceAt], ['first Patroni DCS error', i.firstDcsErrorAt], ['alarm disarmed', i.recoveredAt],
      ['revision at NOSPACE', i.revisionAtNospace], ['DB size at NOSPACE', bytes(i.dbSizeAtNospace, i.dbSizeAtNospaceApprox)],
      ...i.members.map((m) => [`alarm seen by ${m.member}`, m.nospaceAt]),
    ]),
    ev(c, i.evidence),
  ].join('\n'),
  snapshots: ({ snapshots: ss }, c) => ss.length === 0 ? '' : [
    title(c, 'SNAPSHOT STATUS'),
    table(c, ['hash', 'revision', 'total keys', 'total size', 'reading', 'source'], ss.map((s) =>
      [s.hash, s.revision, s.totalKeys, bytes(s.totalSizeBytes, s.totalSizeApprox), s.interpretation, s.source])),
  ].join('\n'),
  churn: ({ churn: ch }, c) => ch.groups.length === 0 ? `${title(c, 'CHURN')}\n  no key-level evidence in the store` : [
    title(c, `CHURN (top group: ${safe(String(ch.top))})`),
    table(c, ['key group', 'rule', 'keys', 'revisions', 'per hour', 'share'], ch.groups.slice(0, 15).map((g) =>
      [g.group, g.rule, g.keys, g.revisions, g.perHour, `${(g.share * 100).toFixed(1)}%`])),
    ch.keys.some((k) => k.version !== undefined)
      ? table(c, ['key', 'revisions', 'of them recovered', 'version (puts since creation)', 'per hour', 'share'], ch.keys.slice(0, 15).map((k) =>
        [k.key, k.revisions, k.recoveredRevisions ?? 0, k.version ?? '-', k.perHour, `${(k.share * 100).toFixed(1)}%`]))
      : table(c, ['key', 'revisions', 'per hour', 'share'], ch.keys.slice(0, 15).map((k) => [k.key, k.revisions, k.perHour, `${(k.share * 100).toFixed(1)}%`])),
    ev(c, ch.evidence),
  ].join('\n'),
  growth: ({ growth: g }, c) => [
    title(c, 'GROWTH'),
    table(c, ['measure', 'value'], [
      ['revisions per hour', g.revisionsPerHour], ['revisions per second', g.revisionsPerSecond],
      ['bytes per revision', g.bytesPerRevision], ['DB bytes per hour', g.bytesPerHour === null ? null : `${humanizeBytes(Math.max(0, g.bytesPerHour))}/h (${g.bytesPerHour})`],
      ['95% interval (bytes/h)', g.bytesPerHourLow === null ? null : `${g.bytesPerHourLow} … ${g.bytesPerHourHigh}`], ['method', g.method],
    ]),
    g.members.length ? table(c, ['member', 'samples', 'first size', 'last size'], g.members.map((m) => [m.member, m.samples, bytes(m.firstSizeBytes), bytes(m.lastSizeBytes)])) : '',
    ev(c, g.evidence),
  ].filter(Boolean).join('\n'),
  projection: ({ projection: p }, c) => [
    title(c, 'QUOTA PROJECTION'),
    table(c, ['fact', 'value'], [
      ['quota', `${bytes(p.quotaBytes)} [${p.quotaSource.source}: ${p.quotaSource.detail}]`], ['last physical size', bytes(p.lastSizeBytes)],
      ['last sample', p.lastSampleAt], ['quota reached by', p.reached ? `already reached (${p.etaAt ?? 'before the data'})` : p.etaAt],
      ['95% interval', p.etaLow ? `${p.etaLow} … ${p.etaHigh}` : null], ['method', p.method],
    ]),
    ev(c, p.evidence),
  ].join('\n'),
  hindsight: ({ hindsight: h }, c) => [
    title(c, 'HINDSIGHT: the etcd mixin alerts replayed over the status samples'),
    table(c, ['rule', 'first fired', 'warning before NOSPACE', 'note'], h.map((a) => [a.rule, a.firstFiredAt, a.warningBeforeNospace, a.note])),
  ].join('\n'),
  refusedWrites: ({ refusedWrites: w }, c) => renderRefused(w, c),
  timeline: ({ timeline: t }, c) => {
    const at = timesOf(c, t.flatMap((e) => [e.at, e.until ?? null]));
    const src = sourcesOf(c, t.map((e) => e.source));
    const when = (e: (typeof t)[number]): string | null => (e.until && e.until !== e.at ? `${at.show(e.at)} … ${at.show(e.until)}` : at.show(e.at));
    const who = (e: (typeof t)[number]): string | null => (e.members && e.members.length > 1 ? e.members.join(', ') : e.member);
    // Narrow: the event's kind heads its summary (one column less to share the width).
    const narrow = Number.isFinite(c.width);
    return [
      title(c, `TIMELINE (${safe(c.zone)})${src.note}`),
      narrow
        ? table(c, [`at${at.day}`, 'member', 'event', 'source'], t.map((e) => [when(e), who(e), `${e.kind}: ${e.summary}`, src.show(e.source)]))
        : table(c, [`at${at.day}`, 'member', 'event', 'summary', 'source'], t.map((e) => [when(e), who(e), e.kind, e.summary, src.show(e.source)])),
    ].join('\n');
  },
  recommendations: ({ recommendations: rs }, c) => [title(c, 'RECOMMENDATIONS'), ...rs.map((r) => [
    ...wrapProse(`[${safe(r.id)}] ${safe(r.title)}`, c.width, ''),
    ...(r.etcdFlags.length ? wrapProse(safe(r.etcdFlags.join(' ')), c.width, '  flags: ', '    ') : []),
    ...(r.configYaml ? ['  config:', ...capped(c, wrapYaml(r.configYaml.split('\n').map(safe).join('\n'), c.width, '    '), 'config line')] : []),
    ...(r.commands.length ? ['  commands:', ...capped(c, r.commands.flatMap((cmd) => wrapShell(safe(cmd), c.width, '    ')), 'command line')] : []),
    ...wrapProse(safe(Number.isFinite(c.limit) ? firstSentence(r.rationale) : r.rationale), c.width, '  why: ', '    '),
  ].join('\n'))].join('\n\n'),
  assumptions: ({ assumptions: a }, c) => (a.length ? [title(c, 'ASSUMPTIONS'), ...a.flatMap((x) => wrapProse(safe(x), c.width, '  - ', '    '))].join('\n') : ''),
};

/**
 * Times in a narrow table: when every one falls on the same day, the column shows the time of day and
 * its heading names the day (`at (2026-11-23)`); else (or with no width limit) the times as they are.
 */
function timesOf(c: Ctx, times: (string | null)[]): { day: string; show: (t: string | null) => string | null } {
  const days = new Set(times.filter((t): t is string => t !== null).map((t) => t.slice(0, 10)));
  const one = [...days][0];
  if (!Number.isFinite(c.width) || days.size !== 1 || !one || !/^\d{4}-\d\d-\d\d$/.test(one)) return { day: '', show: (t) => t };
  return { day: ` (${one})`, show: (t) => (t === null ? null : t.startsWith(`${one}T`) ? t.slice(11) : t) };
}

/**
 * Sources in a narrow table: the directory every one of them is under goes to the title once
 * (`sources under samples/patroni-nospace/`) and the column keeps the rest.
 */
function sourcesOf(c: Ctx, sources: string[]): { note: string; show: (s: string) => string } {
  if (!Number.isFinite(c.width) || sources.length === 0) return { note: '', show: (s) => s };
  let prefix = sources[0]!;
  for (const s of sources) {
    let k = 0;
    while (k < prefix.length && k < s.length && prefix[k] === s[k]) k++;
    prefix = prefix.slice(0, k);
  }
  prefix = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  return prefix ? { note: `, sources under ${safe(prefix)}`, show: (s) => s.slice(prefix.length) } : { note: '', show: (s) => s };
}

/** On the capped screen a rationale shows its first sentence; the rest is one flag away. */
function firstSentence(text: string): string {
  const m = /^(.+?[.!?])\s+(?=[A-Z(])/.exec(text);
  return m && m[1]!.length < text.length - 1 ? `${m[1]} (more: --section recommend)` : text;
}

/** A long block (an alert rule file) cut to the limit, saying how to see the rest. */
function capped(c: Ctx, lines: string[], what: string): string[] {
  if (lines.length <= c.limit * 2) return lines;
  return [...lines.slice(0, c.limit * 2), `    … ${lines.length - c.limit * 2} more ${what}(s) (--section recommend --full)`];
}

function renderRefused(w: AnalysisReport['refusedWrites'], c: Ctx): string {
  if (w.rows.length === 0) return `${title(c, 'REFUSED WRITES')}\n  none in the data (no "failed to apply request" lines, no refused Patroni writes)`;
  const errors = w.byError.map((e) => `${e.count} ${e.via === 'etcd-log' ? 'etcd' : 'Patroni'}: ${e.error ?? 'no error given'}`).join('; ');
  const at = timesOf(c, w.rows.flatMap((r) => [r.firstAt, r.lastAt]));
  const src = sourcesOf(c, w.rows.map((r) => r.source));
  const rows = w.rows.map((r) => [
    r.via === 'etcd-log' ? r.key : r.key ?? r.write, r.client, shortError(r.error), r.count,
    r.members.map((m) => `${m.member ?? '?'} ${m.count}`).join(', '),
    r.firstAt === r.lastAt ? at.show(r.firstAt) : `${at.show(r.firstAt)} … ${at.show(r.lastAt)}`, src.show(r.source),
  ]);
  return [
    title(c, `REFUSED WRITES (etcd: ${w.etcdTotal}, Patroni: ${w.patroniTotal})${src.note}`),
    ...wrapProse(safe(errors), c.width, '  by error: ', '    '),
    table(c, ['key', 'who writes it', 'error', 'count', 'by member', `from … to${at.day}`, 'first line'], rows),
    ...(w.moreRows > 0 ? [`  … ${w.moreRows} more key/error group(s) in the store (query etcd_requests)`] : []),
    ev(c, w.evidence),
  ].join('\n');
}
