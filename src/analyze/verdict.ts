// The on-call verdict: what happened, the root cause with its number, what to do now, how sure we
// are. Pure: built from the finished analysis, so the terminal, Markdown, HTML and JSON carry the
// same words. Each line is short prose (the terminal wraps it to its width; the whole verdict stays
// within 15 lines at 80 columns); every figure names its evidence.
import type { AnalysisReport, Evidence, Verdict } from './types.js';
import { humanizeBytes } from '../units/sizes.js';

type Finished = Pick<AnalysisReport, 'incident' | 'projection' | 'churn' | 'growth' | 'timeline' | 'refusedWrites' | 'recommendations' | 'assumptions'>;
type Line = Verdict['lines'][number];

export function buildVerdict(r: Finished): Verdict {
  const { status, headline } = statusOf(r);
  const lines: Line[] = [];
  const after = afterLine(r, status);
  if (after) lines.push(after);
  lines.push(...causeLines(r));
  const refused = refusedLine(r);
  if (refused) lines.push(refused);
  const { lines: actions, command } = actionLines(r, status);
  lines.push(...actions);
  lines.push(sureLine(r));
  return { status, headline, lines, command };
}

/** 2026-11-23T23:54:58.438Z → 2026-11-23 23:54:58 UTC (to the second: what an on-call reads). */
export function shortTime(iso: string | null): string {
  if (!iso) return '?';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function clock(iso: string | null): string {
  const m = iso ? /T(\d\d:\d\d:\d\d)/.exec(iso) : null;
  return m ? m[1]! : shortTime(iso);
}

function listMembers(names: string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.length} members (${names.slice(0, 3).join(', ')}, …)`;
}

function statusOf(r: Finished): { status: Verdict['status']; headline: string } {
  const i = r.incident;
  const p = r.projection;
  if (i.nospaceAt) {
    const on = i.members.length ? ` (${listMembers(i.members.map((m) => m.member))})` : '';
    if (i.recoveredAt) return { status: 'recovered', headline: `NOSPACE ${shortTime(i.nospaceAt)}${on}, recovered ${clock(i.recoveredAt)}` };
    // A pasted recovery without times (the seed): say what was done, never when.
    const untimedDisarm = r.timeline.some((t) => t.at === null && t.kind === 'operator.alarm.disarm');
    if (untimedDisarm) return { status: 'nospace', headline: `NOSPACE ${shortTime(i.nospaceAt)}${on}; alarm disarmed later, at a time not in the data` };
    return { status: 'nospace', headline: `NOSPACE ${shortTime(i.nospaceAt)}${on}; not recovered in the data` };
  }
  if (i.nospaceUntimedSource) return { status: 'nospace', headline: `NOSPACE in the data at no known time (${i.nospaceUntimedSource.replace(/^.*\//, '')}); not recovered in the data` };
  if (p.reached) return { status: 'nospace', headline: `The DB reached its ${humanizeBytes(p.quotaBytes)} quota (${p.etaAt ? shortTime(p.etaAt) : 'before the data'})` };
  if (p.verdict === 'bounded') {
    return { status: 'bounded', headline: `Healthy: compaction keeps the DB${p.boundBytes ? ` under about ${humanizeBytes(p.boundBytes)}` : ' bounded'} (quota ${humanizeBytes(p.quotaBytes)})` };
  }
  if (p.etaAt) return { status: 'growing', headline: `Growing: the ${humanizeBytes(p.quotaBytes)} quota is reached by ${shortTime(p.etaAt)}` };
  if (p.verdict === 'no-growth') return { status: 'no-growth', headline: 'No growth measured: no quota ETA' };
  return { status: 'unknown', headline: 'No NOSPACE in the data and too little to forecast' };
}

/** After a NOSPACE, the forecast that follows it; for a forecast, its interval and last size. */
function afterLine(r: Finished, status: Verdict['status']): Line | null {
  const p = r.projection;
  const size = p.lastSizeBytes === null ? '' : `${humanizeBytes(p.lastSizeBytes)} of ${humanizeBytes(p.quotaBytes)}${p.lastSampleAt ? ` at ${clock(p.lastSampleAt)}` : ''}`;
  const interval = p.etaLow ? `; 95%: ${shortTime(p.etaLow)} … ${p.etaHigh ? shortTime(p.etaHigh) : 'unbounded'}` : '';
  if (status === 'recovered' || status === 'nospace') {
    if (!size) return null;
    const next = p.verdict === 'bounded' ? 'bounded by compaction' : p.etaAt && !p.reached ? `full again by ${shortTime(p.etaAt)}` : 'no forecast';
    return { kind: 'what', text: `${status === 'recovered' ? 'Since' : 'Last seen'}: ${size}; ${next}`, evidence: p.evidence[0] };
  }
  if (status === 'growing') return { kind: 'what', text: `Last seen: ${size}${interval}`, evidence: p.evidence[0] };
  return size ? { kind: 'what', text: `Last seen: ${size}`, evidence: p.evidence[0] } : null;
}

function causeLines(r: Finished): Line[] {
  const out: Line[] = [];
  const top = r.churn.groups[0];
  if (top) {
    const total = r.churn.groups.reduce((s, g) => s + g.revisions, 0);
    out.push({
      kind: 'cause',
      text: `Top writer: ${top.group}${top.rule.startsWith('last segment') ? '' : ` (${top.rule})`}: ${top.revisions} of ${total} revisions (${(top.share * 100).toFixed(1)}%) [${top.evidence.source}, ${top.evidence.completeness}]`,
      evidence: top.evidence,
    });
  }
  const compaction = compactionInForce(r);
  if (compaction) out.push(compaction);
  return out;
}

/** Whether compaction was in force, from the settings the growth analysis cites or the compactions seen. */
function compactionInForce(r: Finished): Line | null {
  const setting = r.growth.evidence.find((e) => /setting in force: auto-compaction-retention /.test(e.detail));
  const retention = setting ? /auto-compaction-retention (\S+)/.exec(setting.detail)![1]! : null;
  const from = setting ? baseName(/from (\S+)$/.exec(setting.detail)?.[1] ?? null) : null;
  const autoSeen = r.timeline.some((t) => t.kind === 'etcd.compaction.auto');
  if (r.projection.verdict === 'bounded' || autoSeen) {
    return { kind: 'cause', text: `Compaction in force${retention ? ` (retention ${retention}${from ? `, ${from}` : ''})` : ' (compactions seen in the etcd log)'}` };
  }
  if (retention !== null && /^0[a-z]*$/.test(retention)) {
    return { kind: 'cause', text: `No auto-compaction in force: retention ${retention}${from ? ` (${from})` : ''}; nothing frees the history`, evidence: setting };
  }
  if (retention === null) return { kind: 'cause', text: 'No auto-compaction setting in the data and no automatic compaction seen in the logs' };
  return null;
}

/** samples/x/etcd/etcd1.log:3 → etcd1.log:3: the verdict is short; the sections cite the whole path. */
function baseName(source: string | null): string | null {
  return source === null ? null : source.slice(source.lastIndexOf('/') + 1);
}

function refusedLine(r: Finished): Line | null {
  const w = r.refusedWrites;
  if (w.etcdTotal === 0 && w.patroniTotal === 0) return null;
  const parts: string[] = [];
  if (w.etcdTotal > 0) {
    const errs = w.byError.filter((e) => e.via === 'etcd-log').map((e) => `${e.count} ${shortError(e.error)}`).join(', ');
    const top = w.rows.find((x) => x.via === 'etcd-log');
    parts.push(`etcd refused ${plural(w.etcdTotal, 'write')} (${errs})${top ? `, most to ${top.key ?? '?'} (${top.count})` : ''}`);
  }
  if (w.patroniTotal > 0) parts.push(`Patroni logged ${plural(w.patroniTotal, 'refused call')}`);
  return { kind: 'refused', text: `${parts.join('; ')}`, evidence: w.evidence[0] };
}

const plural = (n: number, what: string): string => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;

/** `etcdserver: no space` → no space; `etcdserver: requested lease not found` → lease not found. */
export function shortError(e: string | null): string {
  if (!e) return 'no error given';
  return e.replace(/^etcdserver: /, '').replace(/^mvcc: /, '').replace(/^requested /, '');
}

function actionLines(r: Finished, status: Verdict['status']): { lines: Line[]; command: string | null } {
  const lines: Line[] = [];
  const runbook = r.recommendations.find((x) => x.id === 'runbook');
  const first = runbook?.commands[0] ?? null;
  const command = first === null ? null : stripComment(first);
  const prevent = r.recommendations.find((x) => x.id === 'auto-compaction');
  if (command && status === 'nospace') {
    lines.push({ kind: 'action', text: `Do now: recovery runbook step 1 of ${runbook!.commands.length} (all: --section recommend)` });
  } else if (command && status === 'recovered') {
    if (prevent) lines.push({ kind: 'action', text: `Prevent: ${prevent.title}${prevent.etcdFlags.length ? ` (${prevent.etcdFlags.join(' ')})` : ''}` });
    lines.push({ kind: 'action', text: `If it recurs, recovery runbook step 1 of ${runbook!.commands.length} (all: --section recommend)` });
  } else if (prevent) {
    lines.push({ kind: 'action', text: `Do: ${prevent.title}${prevent.etcdFlags.length ? ` (${prevent.etcdFlags.join(' ')})` : ''}` });
  }
  const showCommand = command !== null && (status === 'nospace' || status === 'recovered');
  return { lines, command: showCommand ? command : null };
}

/** The runbook prints a step as `command   # note`; the verdict carries the command. */
function stripComment(step: string): string {
  const i = step.search(/ {2,}# /);
  return i < 0 ? step : step.slice(0, i);
}

function sureLine(r: Finished): Line {
  const cited: [string, Evidence | undefined][] = [
    ['NOSPACE', r.incident.evidence[0]],
    ['writers', r.churn.groups[0]?.evidence ?? r.churn.evidence[0]],
    ['growth', r.growth.evidence.find((e) => e.source === 'status-samples') ?? r.growth.evidence[0]],
    ['quota', r.projection.quotaSource],
  ];
  const have = cited.filter((x): x is [string, Evidence] => x[1] !== undefined);
  const same = have.length > 0 && have.every(([, e]) => e.completeness === have[0]![1].completeness);
  const parts = have.map(([label, e]) => `${label} ${e.source}${same ? '' : ` ${e.completeness}`}`);
  const assumed = r.assumptions.length ? `; ${r.assumptions.length} assumption(s)` : '';
  return { kind: 'sure', text: `Evidence: ${parts.join(', ') || 'none'}${same ? ` (all ${have[0]![1].completeness})` : ''}${assumed}` };
}
