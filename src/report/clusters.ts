// A document for a store of several etcd clusters: each cluster's whole report, one after the other, headed
// by its name, so that no figure, timeline or runbook of one is read as the other's (issue 12).
import type { AnalysisReport } from '../analyze/types.js';
import { renderMarkdown, text } from './markdown.js';
import { renderHtml } from './html.js';
import { escapeHtml } from './svg-chart.js';

function title(r: AnalysisReport): string {
  const c = r.cluster;
  const more = [c?.clusterId && c.clusterId !== c.name ? `cluster id ${c.clusterId}` : null, c?.patroniScope ? `Patroni scope ${c.patroniScope}` : null]
    .filter((x): x is string => x !== null);
  return `Cluster ${c?.name ?? '-'}${more.length ? ` (${more.join('; ')})` : ''}`;
}

function unassignedNote(unassigned: readonly string[]): string | null {
  return unassigned.length === 0 ? null
    : `${unassigned.length} source${unassigned.length === 1 ? '' : 's'} tied to no cluster, left out of every analysis: ${unassigned.join(', ')}.`;
}

export function renderMarkdownClusters(reports: readonly AnalysisReport[], unassigned: readonly string[]): string {
  const out: string[] = [`# etcd NOSPACE report: ${reports.length} clusters`, `Clusters: ${reports.map((r) => text(r.cluster?.name ?? '-')).join(', ')}. Each is analysed apart.`];
  const note = unassignedNote(unassigned);
  if (note) out.push(`_${text(note)}_`);
  for (const r of reports) {
    // Each cluster's own document, its headings one level down.
    out.push('---', `# ${text(title(r))}`, renderMarkdown(r).replace(/^(#+) /gm, '#$1 ').trimEnd());
  }
  return `${out.join('\n\n')}\n`;
}

export function renderHtmlClusters(reports: readonly AnalysisReport[], unassigned: readonly string[]): string {
  const docs = reports.map((r) => renderHtml(r));
  const head = docs[0]!.slice(0, docs[0]!.indexOf('<body>') + '<body>'.length);
  const bodyOf = (d: string): string => d.slice(d.indexOf('<body>') + '<body>'.length, d.lastIndexOf('</body>'));
  const note = unassignedNote(unassigned);
  const parts = [head.replace(/<title>[^<]*<\/title>/, `<title>${escapeHtml(`etcd NOSPACE report: ${reports.length} clusters`)}</title>`),
    `<p class="note">${escapeHtml(`Clusters: ${reports.map((r) => r.cluster?.name ?? '-').join(', ')}. Each is analysed apart.`)}</p>`];
  if (note) parts.push(`<p class="note">${escapeHtml(note)}</p>`);
  reports.forEach((r, i) => parts.push(`<section class="cluster"><h1>${escapeHtml(title(r))}</h1>`, bodyOf(docs[i]!), '</section>'));
  parts.push('</body></html>', '');
  return parts.join('\n');
}
