// report: the whole analysis as a document people read: Markdown (GitHub) or one self-contained HTML file.
import { buildReports } from './analyze.js';
import { renderHtmlClusters, renderMarkdownClusters } from '../report/clusters.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderHtml } from '../report/html.js';
import { UsageError } from '../errors.js';
import { checkZone, rezoneDeep } from './zone.js';
import { writeReport } from './format.js';

export interface ReportCliOptions {
  db: string;
  format?: string;
  output?: string;
  until?: string;
  quota?: string;
  /** Show times in this zone (the report's times carry its offset). */
  tz?: string;
  /** One cluster (name, hex id or Patroni scope); else each cluster apart in one document. */
  cluster?: string;
}

const RENDERERS = { md: renderMarkdown, html: renderHtml } as const;

export async function runReport(opts: ReportCliOptions): Promise<void> {
  const format = opts.format ?? 'md';
  if (format !== 'md' && format !== 'html') throw new UsageError(`--format ${format}: expected html or md`);
  const tz = checkZone(opts.tz);
  const { reports: all, unassigned } = buildReports(opts);
  const reports = tz ? all.map((r) => rezoneDeep(r, tz)) : all;
  const doc = reports.length === 1 && unassigned.length === 0 ? RENDERERS[format](reports[0]!)
    : (format === 'md' ? renderMarkdownClusters : renderHtmlClusters)(reports, unassigned);
  writeReport(doc, opts.output, format);
}
