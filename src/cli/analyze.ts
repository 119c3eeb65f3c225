// analyze, churn, growth, project, timeline, recommend: one analysis, different sections.
import { openStore } from '../store/open.js';
import { analyzeStore } from '../analyze/analyze.js';
import { renderTables, type Section } from '../report/table.js';
import { parseTimestamp } from '../units/time.js';
import { parseHumanSize } from '../units/sizes.js';
import { UsageError } from '../errors.js';
import type { AnalysisReport } from '../analyze/types.js';
import { checkZone, rezoneDeep } from './zone.js';
import { loadExactKeyCounts } from '../analyze/snapshot-keys.js';
import { renderTable, safeJson, safeLine } from './format.js';

export interface AnalyzeCliOptions {
  db: string;
  json?: boolean;
  until?: string;
  quota?: string;
  /** project: list every back-test origin (the summary is always in the projection). */
  backtest?: boolean;
}

export const COMMAND_SECTIONS: Record<string, readonly Section[] | null> = {
  analyze: null,
  churn: ['churn'],
  growth: ['growth'],
  project: ['projection', 'hindsight'],
  timeline: ['timeline'],
  recommend: ['recommendations', 'assumptions'],
};

export function parseQuota(text: string): number {
  const t = text.trim();
  const bin = /^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB)$/i.exec(t);
  if (bin) return Math.round(Number(bin[1]) * 1024 ** (['kib', 'mib', 'gib', 'tib'].indexOf(bin[2]!.toLowerCase()) + 1));
  const s = parseHumanSize(t.replace(/^(\d+(?:\.\d+)?)([kMGT]B)$/, '$1 $2'));
  if (!s || s.bytes <= 0) throw new UsageError(`--quota ${text}: expected bytes (2147483648), 2GiB, 8GiB or 2.1GB`);
  return s.bytes;
}

export function buildReport(opts: AnalyzeCliOptions): AnalysisReport {
  let untilMs: number | null = null;
  if (opts.until) {
    const t = parseTimestamp(opts.until, { tz: null });
    if (!t) throw new UsageError(`--until ${opts.until}: expected an ISO-8601 time such as 2026-11-23T23:30:00Z`);
    untilMs = t.ms;
  }
  const db = openStore(opts.db, { readonly: true });
  try {
    return analyzeStore(db, { untilMs, quotaBytes: opts.quota ? parseQuota(opts.quota) : null, exactKeys: loadExactKeyCounts(db, untilMs) });
  } finally {
    db.close();
  }
}

export async function runAnalysis(command: string, opts: AnalyzeCliOptions & { tz?: string }): Promise<void> {
  const tz = checkZone(opts.tz);
  const report = tz ? rezoneDeep(buildReport(opts), tz) : buildReport(opts);
  const sections = COMMAND_SECTIONS[command] ?? undefined;
  const bt = report.projection.backtest;
  if (bt && !opts.backtest) report.projection.backtest = { ...bt, details: [] };
  if (opts.json) {
    const body = sections ? pick(report, sections) : report;
    process.stdout.write(`${safeJson(body)}\n`);
    return;
  }
  if (tz) process.stdout.write(safeLine(`times in ${tz}\n`));
  const tables = renderTables(report, sections);
  // Section titles that name UTC ("TIMELINE (UTC)") name the zone instead.
  process.stdout.write(tz ? tables.replace(/^([A-Z][A-Z -]*) \(UTC\)$/gm, (_m, t: string) => safeLine(`${t} (${tz})`)) : tables);
  if (opts.backtest) process.stdout.write(renderBacktest(report));
}

/** `project --backtest`: the forecast replayed from earlier origins, one row per origin. */
function renderBacktest(r: AnalysisReport): string {
  const bt = r.projection.backtest;
  if (!bt) return '\nBACK-TEST\n  too few samples before the end to replay the forecast from earlier origins\n';
  // Growing forecasts: error in seconds (a NOSPACE history) or bytes, z in 95% half-intervals; bounded ones: the miss
  // in bytes and largest-after ÷ bound.
  const err = (d: (typeof bt.details)[number]): string => (d.error === null ? '-'
    : d.verdict !== 'bounded' && bt.truth === 'nospace-time' ? `${(d.error / 1000).toFixed(1)} s` : `${Math.round(d.error)} B`);
  const rows = bt.details.map((d) => [d.at, d.verdict, d.judgedAgainst ?? '-',
    d.predicted === null ? '-' : typeof d.predicted === 'number' ? `${Math.round(d.predicted)} B` : d.predicted, err(d),
    d.ratio !== undefined ? `×${d.ratio.toFixed(2)}` : d.z === null ? '-' : Number.isFinite(d.z) ? d.z.toFixed(2) : 'inf', d.covered ? 'yes' : 'no']);
  return `\n${safeLine(`BACK-TEST (truth: ${bt.truth === 'nospace-time' ? 'the time the quota was reached' : 'the size at the last sample'}, ${bt.truthAt})`)}\n` +
    `${renderTable(['origin', 'verdict', 'judged against', 'forecast', 'abs. error / miss', 'z / ratio', 'covered (after widening)'], rows)}\n${safeLine(`  ${bt.summary}`)}\n`;
}

function pick(r: AnalysisReport, sections: readonly Section[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemaVersion: r.schemaVersion, until: r.until };
  for (const s of sections) out[s] = r[s];
  if (!sections.includes('assumptions')) out.assumptions = r.assumptions;
  return out;
}
