// `report --fleet`: the fleet page in Markdown and HTML (JSON is the FleetReport itself). Ranked by urgency,
// one row per cluster on top, then a section per cluster with its chart (HTML), its settings, the recommended
// change and the evidence. Every string from the data is escaped: text()/cell()/codeSpan() for Markdown,
// escapeHtml() for HTML (cluster names and endpoints are data: a `cluster` label can hold anything).
import type { FleetCluster, FleetReport } from '../analyze/fleet.js';
import { humanizeBytes } from '../units/sizes.js';
import { cell, codeSpan, mdTable, text } from './markdown.js';
import { escapeHtml, renderLineChart } from './svg-chart.js';
import { formatDuration } from '../analyze/hindsight.js';

const bytes = (n: number | null): string => (n === null ? '-' : humanizeBytes(n));
const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

/** `in 3d4h (2026-12-03T10:00:00Z)` relative to the page's asOf. */
function eta(at: string | null, asOf: string | null): string {
  if (at === null) return '-';
  if (asOf === null) return at;
  const d = Date.parse(at) - Date.parse(asOf);
  return d <= 0 ? `reached (${at})` : `in ${formatDuration(d)} (${at})`;
}

export function physicalLine(c: FleetCluster, asOf: string | null): string {
  switch (c.verdict) {
    case 'reached': return `quota reached (${c.physical.etaAt ?? 'at the last reading'})`;
    case 'bounded': return `bounded at about ${bytes(c.physical.boundBytes)} (${pct(c.physical.boundBytes === null ? null : c.physical.boundBytes / c.quotaBytes)} of the quota): no ETA`;
    case 'growing': return c.physical.etaAt ? `${eta(c.physical.etaAt, asOf)}${c.physical.etaLow && c.physical.etaHigh ? `, 95% ${c.physical.etaLow}..${c.physical.etaHigh}` : ''}` : 'growing; no ETA';
    case 'no-growth': return 'no growth';
    case 'unknown': return 'unknown (too few readings)';
  }
}

export function compactionLine(c: FleetCluster): string {
  const k = c.compaction;
  switch (k.progress) {
    case 'advancing': return `advancing (compact revision ${k.compactRevisionFirst} → ${k.compactRevisionLast}, last moved ${k.lastMovedAt}; ${k.revisionsKept ?? '?'} revisions kept)`;
    case 'not-advancing': return k.compactRevisionLast === -1 ? 'NEVER compacted (compact revision -1 in every reading)'
      : `NOT advancing (compact revision stays at ${k.compactRevisionLast}; ${k.revisionsKept ?? '?'} revisions kept)`;
    case 'configured': return 'configured or seen in the logs (no compact revision in the readings)';
    case 'off': return 'off (retention 0 in the logs)';
    case 'unknown': return 'unknown';
  }
}

function headline(c: FleetCluster): string {
  const t = c.verdict === 'reached' ? 'AT QUOTA' : c.verdict === 'growing' ? 'GROWING' : c.verdict === 'bounded' ? 'bounded' : c.verdict;
  return `${c.rank}. ${c.name}: ${t}`;
}

export function renderFleetMarkdown(r: FleetReport): string {
  const out: string[] = [`# etcd fleet capacity${r.asOf ? ` as of ${r.asOf}` : ''}`, ''];
  out.push(`${r.clusters.length} cluster${r.clusters.length === 1 ? '' : 's'}, most urgent first.`, '');
  out.push(mdTable(['#', 'cluster', 'time to quota (physical)', 'time to quota (in use)', 'compaction', 'in use / physical', 'recommended change'],
    r.clusters.map((c) => [c.rank, c.name, physicalLine(c, r.asOf), eta(c.inUse.etaAt, r.asOf), c.compaction.progress, pct(c.fragmentation.inUseRatio),
      c.recommendation?.title ?? '-'])), '');
  for (const c of r.clusters) {
    out.push(`## ${text(headline(c))}`, '');
    out.push(`- Members: ${c.members}; readings: ${c.samples} (${text(c.firstAt)} .. ${text(c.lastAt)})`);
    out.push(`- Quota: ${bytes(c.quotaBytes)} (${c.quotaBytes} B; ${text(c.quota.source)}, ${text(c.quota.completeness)})`);
    out.push(`- Physical: ${bytes(c.physical.lastBytes)} now; ${text(physicalLine(c, r.asOf))}`);
    out.push(`- In use: ${bytes(c.inUse.lastBytes)}${c.inUse.bytesPerHour !== null ? `, ${Math.round(c.inUse.bytesPerHour)} B/h` : ''}; reaches the quota ${text(eta(c.inUse.etaAt, r.asOf))}`);
    out.push(`- Compaction: ${text(compactionLine(c))}`);
    out.push(`- Fragmentation: ${pct(c.fragmentation.inUseRatio)} in use${c.fragmentation.freeBytes !== null ? ` (${bytes(c.fragmentation.freeBytes)} free pages)` : ''}`);
    for (const o of c.outages) out.push(`- Outage: ${codeSpan(o.endpoint)} did not answer ${o.readings} reading(s), ${text(o.firstAt)} .. ${text(o.lastAt)}: ${text(o.error)}`);
    if (c.settings.length) out.push('', '**Settings in force**', '', ...c.settings.map((s) => `- ${text(s)}`));
    if (c.recommendation) {
      out.push('', `**Recommended**: ${text(c.recommendation.title)}`);
      if (c.recommendation.etcdFlags.length) out.push('', ...c.recommendation.etcdFlags.map((f) => `- ${codeSpan(f)}`));
    }
    const ev = [c.quota, c.compaction.evidence, ...(c.inUse.evidence ? [c.inUse.evidence] : []), ...(c.fragmentation.evidence ? [c.fragmentation.evidence] : []), ...c.evidence];
    out.push('', '**Evidence**', '', ...ev.map((e) => `- **${text(e.source)}** (${text(e.completeness)}): ${text(e.detail)}`), '');
  }
  if (r.unassigned.length) out.push('## Sources tied to no cluster', '', ...r.unassigned.map((u) => `- ${cell(u)}`), '');
  return `${out.join('\n')}\n`;
}

const CSS = `body{margin:0 auto;max-width:1100px;padding:16px;font:15px/1.5 system-ui,sans-serif;color:#1b1f24}
table{border-collapse:collapse;font-size:.88em;width:100%}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.urgent{color:#cf222e;font-weight:600}.ok{color:#1a7f37}.note{color:#57606a;font-size:.88em}
section{border-top:1px solid #d0d7de;margin-top:1.4em}figure.chart{margin:.6em 0;max-width:720px}figcaption{font-weight:600}
svg{width:100%;height:auto;display:block}svg .grid{stroke:#eaeef2}svg .axis,svg .tickmark{stroke:#57606a}svg .tick{font-size:11px;fill:#424a53}
svg .quota{stroke:#cf222e;stroke-dasharray:6 4;stroke-width:1.5}svg .quota-label{font-size:11px;fill:#cf222e}
.legend{list-style:none;padding:0;display:flex;gap:1em;font-size:.85em}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px}
code{font-family:ui-monospace,monospace}@media print{section,figure{break-inside:avoid}}`;

function chart(c: FleetCluster): string {
  const pts = (k: 'physical' | 'inUse') => c.chart.filter((p) => p[k] !== null).map((p) => ({ t: Date.parse(p.at), v: p[k]! }));
  if (c.chart.length === 0) return '<p class="note">No sized readings to draw.</p>';
  return renderLineChart({
    id: `fleet-${c.rank}`, title: `${c.name}: DB size (largest member)`, formatY: (v) => humanizeBytes(v),
    series: [{ name: 'physical', points: pts('physical') }, { name: 'in use', points: pts('inUse') }],
    hLines: [{ value: c.quotaBytes, label: `quota ${humanizeBytes(c.quotaBytes)}` }],
  });
}

export function renderFleetHtml(r: FleetReport): string {
  const e = escapeHtml;
  const rows = r.clusters.map((c) => `<tr><td>${c.rank}</td><td><a href="#c${c.rank}">${e(c.name)}</a></td>` +
    `<td class="${c.verdict === 'reached' || c.verdict === 'growing' ? 'urgent' : 'ok'}">${e(physicalLine(c, r.asOf))}</td><td>${e(eta(c.inUse.etaAt, r.asOf))}</td>` +
    `<td>${e(c.compaction.progress)}</td><td>${e(pct(c.fragmentation.inUseRatio))}</td><td>${e(c.recommendation?.title ?? '-')}</td></tr>`);
  const sections = r.clusters.map((c) => {
    const li = (s: string): string => `<li>${e(s)}</li>`;
    const ev = [c.quota, c.compaction.evidence, ...(c.inUse.evidence ? [c.inUse.evidence] : []), ...(c.fragmentation.evidence ? [c.fragmentation.evidence] : []), ...c.evidence];
    return [`<section id="c${c.rank}"><h2>${e(headline(c))}</h2>`, chart(c), '<ul>',
      li(`Members: ${c.members}; readings: ${c.samples} (${c.firstAt ?? '-'} .. ${c.lastAt ?? '-'})`),
      li(`Quota: ${bytes(c.quotaBytes)} (${c.quota.source}, ${c.quota.completeness})`),
      li(`Physical: ${bytes(c.physical.lastBytes)} now; ${physicalLine(c, r.asOf)}`),
      li(`In use: ${bytes(c.inUse.lastBytes)}; reaches the quota ${eta(c.inUse.etaAt, r.asOf)}`),
      li(`Compaction: ${compactionLine(c)}`),
      li(`Fragmentation: ${pct(c.fragmentation.inUseRatio)} in use`),
      ...c.outages.map((o) => li(`Outage: ${o.endpoint} did not answer ${o.readings} reading(s), ${o.firstAt} .. ${o.lastAt}: ${o.error}`)),
      '</ul>',
      c.settings.length ? `<h3>Settings in force</h3><ul>${c.settings.map(li).join('')}</ul>` : '',
      c.recommendation ? `<h3>Recommended</h3><p>${e(c.recommendation.title)}</p>${c.recommendation.etcdFlags.length ? `<pre><code>${e(c.recommendation.etcdFlags.join(' '))}</code></pre>` : ''}` : '',
      `<details class="note"><summary>Evidence</summary><ul>${ev.map((x) => li(`${x.source} (${x.completeness}): ${x.detail}`)).join('')}</ul></details></section>`].join('\n');
  });
  return ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
    `<title>etcd fleet capacity${r.asOf ? ` as of ${e(r.asOf)}` : ''}</title><style>${CSS}</style></head><body>`,
    `<h1>etcd fleet capacity${r.asOf ? ` as of ${e(r.asOf)}` : ''}</h1>`,
    `<p>${r.clusters.length} cluster(s), most urgent first.</p>`,
    '<table><thead><tr><th>#</th><th>cluster</th><th>time to quota (physical)</th><th>time to quota (in use)</th><th>compaction</th><th>in use / physical</th><th>recommended change</th></tr></thead><tbody>',
    ...rows, '</tbody></table>', ...sections,
    r.unassigned.length ? `<section><h2>Sources tied to no cluster</h2><ul>${r.unassigned.map((u) => `<li>${e(u)}</li>`).join('')}</ul></section>` : '',
    '</body></html>', ''].join('\n');
}
