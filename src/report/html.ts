// The analysis as ONE self-contained HTML file: inline CSS, inline SVG charts, no scripts, nothing
// fetched from the network. Every value from the data goes through escapeHtml() (the one escape
// function, in svg-chart.ts), in text and in attributes alike: etcd keys may contain `<`, `&` and quotes.
import type { AnalysisReport, Evidence, Recommendation } from '../analyze/types.js';
import { humanizeBytes } from '../units/sizes.js';
import { summarizeReport } from './markdown.js';
import { ALARM_INTERVAL_HEADER, alarmIntervalRows, recoveryFacts } from './incident-facts.js';
import { uniqueEvidence } from './evidence.js';
import { escapeHtml as e, renderBarChart, renderLineChart, type ChartPoint, type ChartSeries } from './svg-chart.js';

type Cell = string | number | null;

const bytes = (n: number | null, approx = false): string =>
  (n === null ? '-' : `${humanizeBytes(Math.max(0, n))}${approx ? ' (approx.)' : ''} (${n} B)`);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

function table(head: string[], rows: Cell[][]): string {
  const th = head.map((h) => `<th scope="col">${e(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${e(c === null ? '-' : c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table></div>`;
}

function evidence(list: Evidence[]): string {
  const items = uniqueEvidence(list).map((x) => `<li><b>${e(x.source)}</b> <span class="tag">${e(x.completeness)}</span> ${e(x.detail)}</li>`);
  return `<details class="evidence" open><summary>Evidence</summary>${items.length ? `<ul>${items.join('')}</ul>` : '<p>none in the store</p>'}</details>`;
}

const pre = (lang: string, body: string): string => `<pre class="code" data-lang="${e(lang)}"><code>${e(body)}</code></pre>`;

function recommendation(r: Recommendation): string {
  return [`<article class="rec" id="rec-${e(r.id)}"><h3>${e(r.title)}</h3><p>${e(r.rationale)}</p>`,
    r.etcdFlags.length ? `<p class="label">etcd flags</p>${pre('sh', r.etcdFlags.join(' \\\n'))}` : '',
    r.configYaml ? `<p class="label">${r.configYaml.startsWith('groups:') ? 'Prometheus rule file' : 'etcd configuration file'}</p>${pre('yaml', r.configYaml)}` : '',
    r.commands.length ? `<p class="label">commands</p>${pre('sh', r.commands.join('\n'))}` : '', '</article>'].join('\n');
}

function seriesOf(r: AnalysisReport, pick: (p: AnalysisReport['growth']['members'][number]['points'][number]) => number | null): ChartSeries[] {
  return r.growth.members.map((m) => ({
    name: m.member,
    points: m.points.flatMap((p): ChartPoint[] => {
      const v = pick(p);
      const t = ms(p.at);
      return v === null || t === null ? [] : [{ t, v }];
    }),
  })).filter((s) => s.points.length > 0);
}

function sizeChart(r: AnalysisReport): string {
  const series = seriesOf(r, (p) => p.dbSizeBytes);
  if (series.length === 0) return '<p>No timed endpoint status samples: no DB size chart.</p>';
  const p = r.projection;
  const from = ms(p.lastSampleAt);
  const eta = ms(p.etaAt);
  const projection = !p.reached && from !== null && eta !== null && p.lastSizeBytes !== null
    ? { from: { t: from, v: p.lastSizeBytes }, to: { t: eta, v: p.quotaBytes }, low: ms(p.etaLow), high: ms(p.etaHigh) } : undefined;
  return renderLineChart({
    id: 'db-size', title: 'DB size (physical) per member, quota and projection', series,
    formatY: (v) => humanizeBytes(v), hLines: [{ value: p.quotaBytes, label: `quota ${humanizeBytes(p.quotaBytes)}` }], projection,
  });
}

function revisionChart(r: AnalysisReport): string {
  const series = seriesOf(r, (p) => p.revision);
  if (series.length > 0) {
    return renderLineChart({ id: 'revisions', title: 'Store revision per member', series, formatY: (v) => String(Math.round(v)) });
  }
  const groups = r.churn.groups.filter((g) => g.perHour !== null).slice(0, 15);
  if (groups.length === 0) return '';
  return renderBarChart({
    id: 'revisions', title: 'Revisions per hour by key group', formatV: (v) => `${Math.round(v)}/h`,
    bars: groups.map((g) => ({ label: g.group, value: g.perHour ?? 0, note: `${g.revisions} revisions (${g.evidence.completeness})` })),
  });
}

function snapshotChart(r: AnalysisReport): string {
  if (r.snapshots.length === 0) return '';
  return renderBarChart({
    id: 'snapshot-pages', title: 'Snapshot file size (free pages included) against the quota', formatV: (v) => humanizeBytes(v),
    refLine: { value: r.projection.quotaBytes, label: 'quota' },
    bars: r.snapshots.map((s) => ({
      label: `rev ${s.revision} ${s.hash}`, value: s.totalSizeBytes,
      note: `${s.totalKeys} entries, about ${s.bytesPerEntry} bytes per entry${s.historyCompacted ? ', history compacted' : ''}`,
    })),
  });
}

/** In-use and free pages of each snapshot/backend file read directly: what defragmentation gives back. */
function pageAccountingChart(r: AnalysisReport): string {
  if (r.snapshotFiles.length === 0) return '';
  return renderBarChart({
    id: 'page-accounting', title: 'Snapshot/backend files: pages in use and free pages', formatV: (v) => humanizeBytes(v),
    refLine: { value: r.projection.quotaBytes, label: 'quota' },
    bars: r.snapshotFiles.flatMap((f) => [
      { label: `${f.path} in use`, value: f.dbSizeInUseBytes, note: `${f.highWaterPages - f.freePages} pages of ${f.pageSize} B` },
      { label: `${f.path} free`, value: f.freePages * f.pageSize, note: `${f.freePages} free pages (${(f.freeShare * 100).toFixed(1)}%)` },
    ]),
  });
}

function body(r: AnalysisReport): string[] {
  const { incident: i, churn: c, growth: g, projection: p } = r;
  const out: string[] = [];
  out.push('<header><h1>etcd NOSPACE report</h1>', r.until ? `<p class="note">Analysis of what was known at ${e(r.until)} (--until). Times are UTC.</p>` : '<p class="note">Times are UTC.</p>', '</header>');
  out.push(verdictHtml(r));
  out.push('<section id="summary"><h2>Summary</h2>', `<p class="summary">${e(summarizeReport(r))}</p></section>`);
  out.push('<section id="incident"><h2>Incident</h2>', table(['fact', 'value'], [
    ['NOSPACE at', i.nospaceAt], ['first Patroni DCS error', i.firstDcsErrorAt], ...recoveryFacts(i),
    ['revision at NOSPACE', i.revisionAtNospace], ['DB size at NOSPACE', bytes(i.dbSizeAtNospace, i.dbSizeAtNospaceApprox)],
    ...i.members.map((m): Cell[] => [`alarm seen by ${m.member}`, m.nospaceAt])]),
  i.alarmIntervals.length ? table(ALARM_INTERVAL_HEADER, alarmIntervalRows(i)) : '', evidence(i.evidence), '</section>');
  out.push('<section id="growth"><h2>Growth and quota projection</h2>', sizeChart(r), revisionChart(r), table(['measure', 'value'], [
    ['revisions per hour', g.revisionsPerHour], ['revisions per second', g.revisionsPerSecond], ['bytes per revision', g.bytesPerRevision],
    ['DB bytes per hour', g.bytesPerHour === null ? null : `${humanizeBytes(Math.max(0, g.bytesPerHour))}/h (${g.bytesPerHour} B/h)`],
    ['95% interval (bytes/h)', g.bytesPerHourLow === null ? null : `${g.bytesPerHourLow} … ${g.bytesPerHourHigh}`], ['method', g.method],
    ['quota', bytes(p.quotaBytes)], ['last physical size', bytes(p.lastSizeBytes)], ['last sample', p.lastSampleAt],
    ['quota reached by', p.reached ? `already reached (${p.etaAt ?? 'before the data'})` : p.etaAt],
    ['95% interval', p.etaLow ? `${p.etaLow} … ${p.etaHigh}` : null], ['projection method', p.method]]),
  g.members.length ? table(['member', 'samples', 'first size', 'last size'], g.members.map((m) => [m.member, m.samples, bytes(m.firstSizeBytes), bytes(m.lastSizeBytes)])) : '',
  evidence([...g.evidence, p.quotaSource, ...p.evidence]), '</section>');
  out.push('<section id="hindsight"><h2>Hindsight: would the etcd mixin alerts have fired?</h2>', table(['rule', 'expr', 'first fired', 'warning before NOSPACE', 'note'],
    r.hindsight.map((a) => [a.rule, a.expr, a.firstFiredAt, a.warningBeforeNospace, a.note])), '</section>');
  out.push(refusedHtml(r));
  out.push('<section id="churn"><h2>Key churn</h2>');
  if (c.groups.length === 0) out.push('<p>No key-level evidence in the store.</p>');
  else {
    out.push(`<p>Top group: <code>${e(c.top)}</code></p>`, table(['key group', 'rule', 'keys', 'revisions', 'per hour', 'share', 'evidence'],
      c.groups.map((x) => [x.group, x.rule, x.keys, x.revisions, x.perHour, pct(x.share), `${x.evidence.source}, ${x.evidence.completeness}`])),
    table(['key', 'group', 'revisions', 'per hour', 'share', 'evidence'],
      c.keys.map((k) => [k.key, k.group, k.revisions, k.perHour, pct(k.share), `${k.evidence.source}, ${k.evidence.completeness}`])));
  }
  out.push(evidence([...c.evidence, ...c.groups.map((x) => x.evidence), ...c.keys.map((k) => k.evidence)]), '</section>');
  if (r.snapshotFiles.length) {
    out.push('<section id="page-accounting"><h2>Snapshot page accounting</h2>', pageAccountingChart(r),
      table(['file', 'DB size', 'in use', 'free pages', 'key revisions', 'findings'], r.snapshotFiles.map((f) =>
        [f.path, humanizeBytes(f.dbSizeBytes), humanizeBytes(f.dbSizeInUseBytes), `${f.freePages} (${(f.freeShare * 100).toFixed(1)}%)`,
          `${f.keyRevisions} of ${f.distinctKeys} keys (${f.evidence.completeness})`, f.findings.join(' ')])), '</section>');
  }
  if (r.snapshots.length) {
    out.push('<section id="snapshots"><h2>Snapshot readings</h2>', snapshotChart(r), table(['at', 'hash', 'revision', 'total keys', 'total size', 'bytes/entry', 'reading', 'source'],
      r.snapshots.map((s) => [s.at, s.hash, s.revision, s.totalKeys, bytes(s.totalSizeBytes, s.totalSizeApprox), s.bytesPerEntry, s.interpretation, s.source])), '</section>');
  }
  out.push('<section id="timeline"><h2>Timeline</h2>', r.timeline.length === 0 ? '<p>No events in the store.</p>' : table(['at', 'member', 'event', 'count', 'summary', 'source'],
    r.timeline.map((x) => [x.at, x.member, x.kind, x.count, x.summary, x.source])), '</section>');
  out.push('<section id="recommendations"><h2>Recommendations</h2>', ...r.recommendations.map(recommendation), '</section>');
  out.push('<section id="assumptions"><h2>Assumptions</h2>', r.assumptions.length ? `<ul>${r.assumptions.map((a) => `<li>${e(a)}</li>`).join('')}</ul>` : '<p>None.</p>', '</section>');
  return out;
}

const CSS = `
:root{color-scheme:light;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--code:#f6f8fa}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1100px;padding:16px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:1px solid var(--line);padding-bottom:.2em;margin-top:1.6em}
.note,.label{color:var(--muted)}.label{margin:.6em 0 .2em;font-size:.9em}
.summary{font-size:1.05em;background:#fff8e5;border-left:4px solid #d4a72c;padding:.6em .9em}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.6em 0}
table{border-collapse:collapse;font-size:.88em;min-width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--code)}td{overflow-wrap:anywhere;min-width:4em}code{overflow-wrap:anywhere}
pre.code{background:var(--code);padding:8px 10px;overflow-x:auto;border:1px solid var(--line);border-radius:4px;font-size:.85em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.evidence{font-size:.88em;color:var(--muted);margin:.6em 0}.evidence ul{margin:.3em 0;padding-left:1.2em}
.tag{display:inline-block;border:1px solid var(--line);border-radius:3px;padding:0 4px;font-size:.85em}
figure.chart{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
svg{width:100%;height:auto;display:block;background:#fff}
svg .grid{stroke:#eaeef2}svg .axis,svg .tickmark{stroke:#57606a}svg .tick{font-size:11px;fill:#424a53}
svg .quota{stroke:#cf222e;stroke-dasharray:6 4;stroke-width:1.5}svg .quota-label{font-size:11px;fill:#cf222e}
svg .proj{stroke:#6e7781;stroke-dasharray:3 3;stroke-width:1.5}svg .band{fill:#8c959f;fill-opacity:.25}
.legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.85em}
.swatch{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.quota-swatch{background:#cf222e}.proj-swatch{background:#8c959f}
.rec{border:1px solid var(--line);border-radius:6px;padding:0 12px 8px;margin:1em 0}
@media (max-width:600px){body{padding:8px;font-size:14px}h1{font-size:1.3em}th,td{padding:3px 5px}}
@media print{body{max-width:none;padding:0;font-size:11pt}.summary{background:none}
 section,figure,.rec,pre{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}
 td{overflow-wrap:anywhere}details.evidence>summary{list-style:none}a{color:inherit}}
`;

export function renderHtml(r: AnalysisReport): string {
  return ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network, no scripts: the file must open the same offline, printed or mailed.
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
    `<title>${e(`etcd NOSPACE report${r.incident.nospaceAt ? ` ${r.incident.nospaceAt}` : ''}`)}</title>`,
    `<style>${CSS}</style></head><body>`, ...body(r), '</body></html>', ''].join('\n');
}

/** The on-call verdict (analyze/verdict.ts) first: headline, its lines, the first runbook step. */
function verdictHtml(r: AnalysisReport): string {
  const v = r.verdict;
  return [`<section id="verdict"><h2>Verdict</h2><p class="summary"><strong>${e(v.headline)}</strong></p>`,
    `<ul>${v.lines.map((l) => `<li>${e(l.text)}</li>`).join('')}</ul>`, v.command ? pre('sh', v.command) : '', '</section>'].join('');
}

/** Refused writes by key and error (analyze/refused-writes.ts). */
function refusedHtml(r: AnalysisReport): string {
  const w = r.refusedWrites;
  if (w.rows.length === 0) return '<section id="refused-writes"><h2>Refused writes</h2><p>None in the data.</p></section>';
  return ['<section id="refused-writes"><h2>Refused writes</h2>', table(['key', 'who writes it', 'error', 'count', 'by member', 'first', 'last', 'first line'], w.rows.map((x): Cell[] => [
    x.key ?? x.write, x.client, x.error, x.count, x.members.map((m) => `${m.member ?? '?'} ${m.count}`).join(', '), x.firstAt, x.lastAt, x.source])),
  w.moreRows ? `<p>${w.moreRows} more key/error groups are in the store.</p>` : '', evidence(w.evidence), '</section>'].join('');
}
