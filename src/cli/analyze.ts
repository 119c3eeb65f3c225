// analyze, churn, growth, project, timeline, recommend: one analysis, different sections.
import { chooseKeyEvidence, loadWalKeyCounts } from '../analyze/wal-churn.js';
import { openStore } from '../store/open.js';
import { analyzeStore } from '../analyze/analyze.js';
import { ALL_SECTIONS, SECTION_NAMES, renderTables, type RenderOptions, type Section } from '../report/table.js';
import { parseSizeOption, parseTimeOption } from './options.js';
import { UsageError } from '../errors.js';
import type { AnalysisReport, MultiClusterReport } from '../analyze/types.js';
import { clustersToAnalyze } from '../analyze/clusters.js';
import { readUnassigned } from '../store/clusters.js';
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
  /** The screen: every row at any width (--full), one section, rows per section, the width to fit. */
  full?: boolean;
  section?: string;
  limit?: string;
  width?: string;
  /** Analyse this cluster alone (its name, hex cluster id or Patroni scope); else each cluster apart. */
  cluster?: string;
}

export const COMMAND_SECTIONS: Record<string, readonly Section[] | null> = {
  analyze: null,
  churn: ['churn'],
  growth: ['growth'],
  project: ['projection', 'hindsight'],
  timeline: ['timeline', 'refusedWrites'],
  recommend: ['recommendations', 'assumptions'],
};

export function parseQuota(text: string): number {
  return parseSizeOption('--quota', text);
}

/** A store of one cluster (or with --cluster): its report. Several clusters and no --cluster: a usage error. */
export function buildReport(opts: AnalyzeCliOptions): AnalysisReport {
  const { reports } = buildReports(opts);
  if (reports.length !== 1) throw new UsageError(`the store holds ${reports.length} clusters (${reports.map((r) => r.cluster?.name).join(', ')}): name one with --cluster`);
  return reports[0]!;
}

/**
 * One report per cluster (analyze/clusters.ts): the one --cluster names, else every cluster in the store
 * apart, so that nothing mixes two; `unassigned`: the sources no evidence tied to a cluster, left out.
 */
export function buildReports(opts: AnalyzeCliOptions): { reports: AnalysisReport[]; unassigned: string[] } {
  let untilMs: number | null = null;
  if (opts.until) untilMs = parseTimeOption('--until', opts.until, null, '2026-11-23T23:30:00Z');
  const quotaBytes = opts.quota ? parseQuota(opts.quota) : null;
  const db = openStore(opts.db, { readonly: true });
  try {
    const { scopes, known } = clustersToAnalyze(db, opts.cluster ?? null);
    if (scopes.length === 0) {
      throw new UsageError(`--cluster ${opts.cluster}: no such cluster in ${opts.db} (${known.length ? `known: ${known.map((c) => c.name).join(', ')}` : 'it names no cluster'})`);
    }
    const reports = scopes.map((cluster) => analyzeStore(db, { untilMs, quotaBytes, exactKeys: chooseKeyEvidence(loadExactKeyCounts(db, untilMs, cluster), loadWalKeyCounts(db, untilMs, cluster)), cluster }));
    return { reports, unassigned: opts.cluster ? [] : readUnassigned(db).map((s) => s.path) };
  } finally {
    db.close();
  }
}

export async function runAnalysis(command: string, opts: AnalyzeCliOptions & { tz?: string }): Promise<void> {
  const tz = checkZone(opts.tz);
  const { reports, unassigned } = buildReports(opts);
  if (unassigned.length > 0) {
    process.stderr.write(safeLine(`note: ${unassigned.length} source${unassigned.length === 1 ? '' : 's'} tied to no cluster, left out: ${unassigned.slice(0, 5).join(', ')}${unassigned.length > 5 ? ', …' : ''} (sources rm, then ingest --cluster NAME)\n`));
  }
  if (reports.length > 1 && opts.json) {
    const sections = COMMAND_SECTIONS[command] ?? undefined;
    const clusters = reports.map((r) => (tz ? rezoneDeep(r, tz) : r)).map((r) => {
      if (r.projection.backtest && !opts.backtest) r.projection.backtest = { ...r.projection.backtest, details: [] };
      return sections ? pick(r, sections) : r;
    });
    const multi = { schemaVersion: reports[0]!.schemaVersion, clusters, unassigned } as MultiClusterReport;
    process.stdout.write(`${safeJson(multi)}\n`);
    return;
  }
  for (const r of reports) {
    if (reports.length > 1) process.stdout.write(clusterHeading(r));
    await printAnalysis(command, tz ? rezoneDeep(r, tz) : r, opts, tz);
  }
}

/** Several clusters: each one's analysis is headed by its name. */
function clusterHeading(r: AnalysisReport): string {
  const c = r.cluster;
  const more = [c?.clusterId && c.clusterId !== c.name ? `cluster id ${c.clusterId}` : null, c?.patroniScope ? `Patroni scope ${c.patroniScope}` : null].filter(Boolean);
  return `\n${safeLine(`======== CLUSTER ${c?.name ?? '-'}${more.length ? ` (${more.join('; ')})` : ''} ========\n`)}\n`;
}

async function printAnalysis(command: string, report: AnalysisReport, opts: AnalyzeCliOptions, tz: string | null): Promise<void> {
  const sections = COMMAND_SECTIONS[command] ?? undefined;
  const bt = report.projection.backtest;
  if (bt && !opts.backtest) report.projection.backtest = { ...bt, details: [] };
  const chosen = opts.section ? [sectionNamed(opts.section)] : sections;
  if (opts.json) {
    const body = chosen ? pick(report, chosen) : report;
    process.stdout.write(`${safeJson(body)}\n`);
    return;
  }
  if (tz) process.stdout.write(safeLine(`times in ${tz}\n`));
  process.stdout.write(renderTables(report, chosen ?? ALL_SECTIONS, { ...screenOf(command, opts), zone: tz }));
  if (opts.backtest) process.stdout.write(renderBacktest(report));
}

/** Rows per section on the `analyze` screen unless --limit, --section or --full says otherwise. */
export const SCREEN_ROWS = 10;
/** Rows of the `timeline` command in the terminal unless --limit or --full says otherwise. */
export const TIMELINE_ROWS = 200;

/**
 * How the terminal output is laid out: the width (the terminal's on a TTY, else 80; --width; --full: no
 * limit), the rows per section (`analyze`: SCREEN_ROWS; one section or another command: all), colour (a
 * TTY, NO_COLOR unset or empty, TERM not dumb).
 */
function screenOf(command: string, opts: AnalyzeCliOptions): RenderOptions {
  const tty = process.stdout.isTTY === true;
  const width = opts.width !== undefined ? positiveInt('--width', opts.width, 20)
    : opts.full ? Infinity : tty && process.stdout.columns ? process.stdout.columns : 80;
  // `timeline` is capped too: on a 500 k-event store it printed 8.6 MB; the table says how many rows it left out.
  const limit = opts.limit !== undefined ? positiveInt('--limit', opts.limit, 1)
    : opts.full || opts.section ? Infinity : command === 'analyze' ? SCREEN_ROWS : command === 'timeline' ? TIMELINE_ROWS : Infinity;
  const noColor = (process.env.NO_COLOR ?? '') !== '' || process.env.TERM === 'dumb';
  return { width, limit, color: tty && !noColor };
}

function positiveInt(flag: string, text: string, min: number): number {
  const n = /^\d{1,6}$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${text}: expected a whole number, at least ${min}`);
  return n;
}

function sectionNamed(name: string): Section {
  const s = SECTION_NAMES[name];
  if (!s) throw new UsageError(`--section ${name}: expected one of ${Object.keys(SECTION_NAMES).join(', ')}`);
  return s;
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
  const out: Record<string, unknown> = { schemaVersion: r.schemaVersion, cluster: r.cluster, until: r.until };
  for (const s of sections) out[s] = r[s];
  if (!sections.includes('assumptions')) out.assumptions = r.assumptions;
  return out;
}
