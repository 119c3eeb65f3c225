// Terminal rendering of the analysis: one section per analysis, each figure with its evidence.
import type { AnalysisReport, Evidence } from '../analyze/types.js';
import { humanizeBytes } from '../units/sizes.js';
import { renderBoxTable } from './box-table.js';
import { safeText as safe } from './terminal-safe.js';

export type Section = 'incident' | 'snapshots' | 'churn' | 'growth' | 'projection' | 'timeline' | 'hindsight' | 'recommendations' | 'assumptions';
export const ALL_SECTIONS: readonly Section[] = ['incident', 'snapshots', 'churn', 'growth', 'projection', 'hindsight', 'timeline', 'recommendations', 'assumptions'];

// Every cell passes safeText() in renderBoxTable; prose from the data passes safe() here.
const table = (head: string[], rows: (string | number | null)[][]): string => renderBoxTable(head, rows, '-');
const ev = (e: Evidence[]): string => e.map((x) => `  evidence (${safe(x.source)}, ${safe(x.completeness)}): ${safe(x.detail)}`).join('\n');
const bytes = (n: number | null, approx = false): string => (n === null ? '-' : `${humanizeBytes(n)}${approx ? ' (approx.)' : ''} (${n} B)`);

export function renderTables(r: AnalysisReport, sections: readonly Section[] = ALL_SECTIONS): string {
  const out: string[] = [];
  if (r.until) out.push(`Analysis of what was known at ${safe(r.until)} (--until)`);
  for (const s of sections) out.push(RENDER[s](r));
  return `${out.filter(Boolean).join('\n\n')}\n`;
}

const RENDER: Record<Section, (r: AnalysisReport) => string> = {
  incident: ({ incident: i }) => [
    'INCIDENT',
    table(['fact', 'value'], [
      ['NOSPACE at', i.nospaceAt], ['first Patroni DCS error', i.firstDcsErrorAt], ['alarm disarmed', i.recoveredAt],
      ['revision at NOSPACE', i.revisionAtNospace], ['DB size at NOSPACE', bytes(i.dbSizeAtNospace, i.dbSizeAtNospaceApprox)],
      ...i.members.map((m) => [`alarm seen by ${m.member}`, m.nospaceAt]),
    ]),
    ev(i.evidence),
  ].join('\n'),
  snapshots: ({ snapshots: ss }) => ss.length === 0 ? '' : [
    'SNAPSHOT STATUS',
    table(['hash', 'revision', 'total keys', 'total size', 'reading', 'source'], ss.map((s) =>
      [s.hash, s.revision, s.totalKeys, bytes(s.totalSizeBytes, s.totalSizeApprox), s.interpretation, s.source])),
  ].join('\n'),
  churn: ({ churn: c }) => c.groups.length === 0 ? 'CHURN\n  no key-level evidence in the store' : [
    `CHURN (top group: ${safe(String(c.top))})`,
    table(['key group', 'rule', 'keys', 'revisions', 'per hour', 'share'], c.groups.slice(0, 15).map((g) =>
      [g.group, g.rule, g.keys, g.revisions, g.perHour, `${(g.share * 100).toFixed(1)}%`])),
    c.keys.some((k) => k.version !== undefined)
      ? table(['key', 'revisions', 'of them recovered', 'version (puts since creation)', 'per hour', 'share'], c.keys.slice(0, 15).map((k) =>
        [k.key, k.revisions, k.recoveredRevisions ?? 0, k.version ?? '-', k.perHour, `${(k.share * 100).toFixed(1)}%`]))
      : table(['key', 'revisions', 'per hour', 'share'], c.keys.slice(0, 15).map((k) => [k.key, k.revisions, k.perHour, `${(k.share * 100).toFixed(1)}%`])),
    ev(c.evidence),
  ].join('\n'),
  growth: ({ growth: g }) => [
    'GROWTH',
    table(['measure', 'value'], [
      ['revisions per hour', g.revisionsPerHour], ['revisions per second', g.revisionsPerSecond],
      ['bytes per revision', g.bytesPerRevision], ['DB bytes per hour', g.bytesPerHour === null ? null : `${humanizeBytes(Math.max(0, g.bytesPerHour))}/h (${g.bytesPerHour})`],
      ['95% interval (bytes/h)', g.bytesPerHourLow === null ? null : `${g.bytesPerHourLow} … ${g.bytesPerHourHigh}`], ['method', g.method],
    ]),
    g.members.length ? table(['member', 'samples', 'first size', 'last size'], g.members.map((m) => [m.member, m.samples, bytes(m.firstSizeBytes), bytes(m.lastSizeBytes)])) : '',
    ev(g.evidence),
  ].filter(Boolean).join('\n'),
  projection: ({ projection: p }) => [
    'QUOTA PROJECTION',
    table(['fact', 'value'], [
      ['quota', `${bytes(p.quotaBytes)} [${p.quotaSource.source}: ${p.quotaSource.detail}]`], ['last physical size', bytes(p.lastSizeBytes)],
      ['last sample', p.lastSampleAt], ['quota reached by', p.reached ? `already reached (${p.etaAt ?? 'before the data'})` : p.etaAt],
      ['95% interval', p.etaLow ? `${p.etaLow} … ${p.etaHigh}` : null], ['method', p.method],
    ]),
    ev(p.evidence),
  ].join('\n'),
  hindsight: ({ hindsight: h }) => [
    'HINDSIGHT: the etcd mixin alerts replayed over the status samples',
    table(['rule', 'first fired', 'warning before NOSPACE', 'note'], h.map((a) => [a.rule, a.firstFiredAt, a.warningBeforeNospace, a.note])),
  ].join('\n'),
  timeline: ({ timeline: t }) => [
    'TIMELINE (UTC)',
    table(['at', 'member', 'event', 'summary', 'source'], t.map((e) => [e.at, e.member, e.kind, e.summary, e.source])),
  ].join('\n'),
  recommendations: ({ recommendations: rs }) => ['RECOMMENDATIONS', ...rs.map((r) => [
    `[${safe(r.id)}] ${safe(r.title)}`,
    ...(r.etcdFlags.length ? [`  flags: ${safe(r.etcdFlags.join(' '))}`] : []),
    ...(r.configYaml ? ['  config:', ...r.configYaml.split('\n').map((l) => `    ${safe(l)}`)] : []),
    ...(r.commands.length ? ['  commands:', ...r.commands.map((c) => `    ${safe(c)}`)] : []),
    `  why: ${safe(r.rationale)}`,
  ].join('\n'))].join('\n\n'),
  assumptions: ({ assumptions: a }) => (a.length ? ['ASSUMPTIONS', ...a.map((x) => `  - ${safe(x)}`)].join('\n') : ''),
};
