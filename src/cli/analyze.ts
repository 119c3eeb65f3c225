// analyze, churn, growth, project, timeline, recommend: one analysis, different sections.
import { openStore } from '../store/open.js';
import { analyzeStore } from '../analyze/analyze.js';
import { renderTables, type Section } from '../report/table.js';
import { parseTimestamp } from '../units/time.js';
import { parseHumanSize } from '../units/sizes.js';
import { UsageError } from '../errors.js';
import type { AnalysisReport } from '../analyze/types.js';
import { loadExactKeyCounts } from '../analyze/snapshot-keys.js';

export interface AnalyzeCliOptions {
  db: string;
  json?: boolean;
  until?: string;
  quota?: string;
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

export async function runAnalysis(command: string, opts: AnalyzeCliOptions): Promise<void> {
  const report = buildReport(opts);
  const sections = COMMAND_SECTIONS[command] ?? undefined;
  if (opts.json) {
    const body = sections ? pick(report, sections) : report;
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  process.stdout.write(renderTables(report, sections));
}

function pick(r: AnalysisReport, sections: readonly Section[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemaVersion: r.schemaVersion, until: r.until };
  for (const s of sections) out[s] = r[s];
  if (!sections.includes('assumptions')) out.assumptions = r.assumptions;
  return out;
}
