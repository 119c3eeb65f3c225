// `report --fleet`: every cluster on one page (md, html, json), ranked by urgency.
import { openStore } from '../store/open.js';
import { analyzeFleet } from '../analyze/fleet.js';
import { renderFleetHtml, renderFleetMarkdown } from '../report/fleet.js';
import { UsageError } from '../errors.js';
import { parseSizeOption } from './options.js';
import { safeJson, writeReport } from './format.js';

export interface FleetReportCliOptions {
  db: string;
  format?: string;
  output?: string;
  quota?: string;
  until?: string;
  cluster?: string;
}

export async function runFleetReport(opts: FleetReportCliOptions): Promise<void> {
  const format = opts.format ?? 'md';
  if (format !== 'md' && format !== 'html' && format !== 'json') throw new UsageError(`--format ${format}: expected md, html or json with --fleet`);
  if (opts.cluster !== undefined) throw new UsageError('--cluster: the fleet page covers every cluster; use report --cluster NAME without --fleet for one');
  if (opts.until !== undefined) throw new UsageError('--until: not taken with --fleet');
  const quotaBytes = opts.quota === undefined ? null : parseSizeOption('--quota', opts.quota);
  const db = openStore(opts.db, { readonly: true });
  let doc: string;
  try {
    const r = analyzeFleet(db, { quotaBytes });
    doc = format === 'json' ? `${safeJson(r)}\n` : format === 'html' ? renderFleetHtml(r) : renderFleetMarkdown(r);
  } finally {
    db.close();
  }
  writeReport(doc, opts.output, format);
}
