// Settings that prevent the next NOSPACE, each justified by the measured numbers, plus the exact
// recovery runbook for this cluster.
import type { Churn, Growth, Incident, Projection, Recommendation } from './types.js';
import type { Loaded } from './load.js';
import { humanizeBytes } from '../units/sizes.js';
import { formatDuration } from './hindsight.js';
import { runbook } from './runbook.js';
import { compactionState, describeRetention, describeSettings, patroniNumber, type SettingsInForce } from './settings.js';
import { NO_SETTINGS } from './growth.js';
import { readSnapshotStatus } from './snapshot-status.js';
import { patroniBudget, type PatroniBudget } from './patroni-budget.js';

/** Retained history should stay under this fraction of the quota. */
export const HISTORY_FRACTION = 0.01;
const DEFAULT_QUOTA = 2 * 1024 ** 3;
/** Periodic retentions an operator would write, shortest first. */
const RETENTIONS: readonly { text: string; hours: number }[] = [
  { text: '1m', hours: 1 / 60 }, { text: '5m', hours: 5 / 60 }, { text: '10m', hours: 10 / 60 },
  { text: '30m', hours: 0.5 }, { text: '1h', hours: 1 }, { text: '4h', hours: 4 }, { text: '12h', hours: 12 },
  { text: '24h', hours: 24 },
];

export interface CompactionPlan {
  retention: string;
  retentionHours: number;
  /** Revisions held just before a compaction: retention plus one compaction interval. */
  retainedRevisions: number;
  retainedBytes: number;
  /**
   * The physical DB size the plan should keep under: the history held before a compaction, half as
   * much again for pages freed but not yet reused, plus 1 MiB for live keys and bbolt's own pages.
   */
  boundBytes: number;
  revisionRetention: number;
}

export function planCompaction(g: Growth, quotaBytes: number): CompactionPlan | null {
  const r = g.revisionsPerHour;
  const b = g.bytesPerRevision;
  if (r === null || b === null || r <= 0 || b <= 0) return null;
  const budget = HISTORY_FRACTION * quotaBytes;
  // periodic (3.3.3+): compacts every min(retention, 1h) to the revision of `retention` ago.
  const held = (h: number): number => r * (h + Math.min(h, 1));
  const fits = RETENTIONS.filter((x) => held(x.hours) * b <= budget);
  const pick = fits[fits.length - 1] ?? RETENTIONS[0]!;
  const retainedRevisions = Math.round(held(pick.hours));
  const retainedBytes = Math.round(retainedRevisions * b);
  return {
    retention: pick.text, retentionHours: pick.hours, retainedRevisions, retainedBytes,
    boundBytes: Math.round(1.5 * retainedBytes) + 1024 * 1024,
    revisionRetention: Math.max(1000, Math.round(r * pick.hours)),
  };
}

export function recommend(d: Loaded, incident: Incident, churn: Churn, growth: Growth, projection: Projection,
  settings: SettingsInForce = NO_SETTINGS): Recommendation[] {
  const out: Recommendation[] = [];
  const q = projection.quotaBytes;
  const plan = planCompaction(growth, q);
  const rate = growth.revisionsPerHour;
  const bpr = growth.bytesPerRevision;
  const state = compactionState(settings);
  const found = settingsFound(settings);
  const configured = settings.retention.find((r) => !r.where.startsWith('seen ') && r.value.amount > 0) ?? settings.retention.find((r) => r.value.amount > 0) ?? null;
  const watch = watchSafety(settings, plan, configured?.value ?? null, rate);
  const budget = patroniBudget(settings, churn, growth);
  const bprCheck = snapshotCrossCheck(d, bpr);
  if (projection.verdict === 'bounded') {
    // Compaction is configured or seen running and keeps the size in a band: keep it, give the headroom.
    const bound = projection.boundBytes ?? null;
    out.push({
      id: 'auto-compaction',
      title: `Keep the auto-compaction in force: the DB is bounded${bound !== null ? ` at about ${humanizeBytes(bound)}` : ''}`,
      etcdFlags: [], configYaml: null, commands: [],
      ...(bound !== null ? { predictedMaxDbBytes: bound } : {}),
      rationale: `${projection.method ?? ''}. ${projection.evidence.map((e) => e.detail).filter((x) => x.startsWith('bounded: ')).join(' ')} ` +
        (bound !== null ? `Headroom: ${humanizeBytes(q - bound)} (${(100 * (1 - bound / q)).toFixed(1)}% of the ${humanizeBytes(q)} quota). ` : '') +
        `Compaction is already in force (${state.evidence}): nothing to enable. ${watch} ${found}`,
    });
  } else if (state.on === true && plan && rate !== null && bpr !== null) {
    // Configured or seen running, yet not shown to bound the DB: never advise enabling it again; say whether the
    // retention in force is longer than the one that keeps history under the target.
    const heldMs = configured ? retentionHeldMs(configured.value, rate) : null;
    const tooLong = heldMs !== null && heldMs > (plan.retentionHours + Math.min(plan.retentionHours, 1)) * 3_600_000 * 1.001;
    out.push({
      id: 'auto-compaction',
      title: tooLong ? `Shorten the auto-compaction retention to ${plan.retention} (${describeRetention(configured!.value)} in force)`
        : `Keep the auto-compaction in force (${configured ? describeRetention(configured.value) : 'seen running'}); not yet shown to bound the DB`,
      etcdFlags: tooLong ? ['--auto-compaction-mode=periodic', `--auto-compaction-retention=${plan.retention}`] : [],
      configYaml: tooLong ? `auto-compaction-mode: periodic\nauto-compaction-retention: "${plan.retention}"` : null,
      commands: [],
      ...(tooLong ? { predictedMaxDbBytes: plan.boundBytes } : {}),
      rationale:
        `Compaction is in force (${state.evidence}). ${projection.method ?? ''}. ` +
        (tooLong ? `The retention in force holds about ${humanizeBytes(heldMs! / 3_600_000 * rate * bpr)} of history at ${rate} revisions/h × ${bpr} bytes/revision, ` +
          `over the target of ${HISTORY_FRACTION * 100}% of the ${humanizeBytes(q)} quota; ${plan.retention} holds ${humanizeBytes(plan.retainedBytes)}. `
          : `Check again after a full compaction cycle: the in-use size should fall at each compaction. `) +
        `${bprCheck} ${budget.text} ${watch} ${found}`,
    });
  } else if (plan && rate !== null && bpr !== null) {
    out.push({
      id: 'auto-compaction',
      title: `Enable periodic auto-compaction with ${plan.retention} retention`,
      etcdFlags: ['--auto-compaction-mode=periodic', `--auto-compaction-retention=${plan.retention}`],
      configYaml: `auto-compaction-mode: periodic\nauto-compaction-retention: "${plan.retention}"`,
      commands: [],
      predictedMaxDbBytes: plan.boundBytes,
      rationale:
        `Measured ${rate} revisions/h at ${bpr} bytes/revision (${growth.method}). Periodic mode (etcd 3.3.3+, 3.4, 3.5) compacts every ` +
        `min(retention, 1h) to the revision sampled one retention ago, so just before a compaction it holds about retention + one interval ` +
        `of history: ${plan.retainedRevisions} revisions ≈ ${humanizeBytes(plan.retainedBytes)}, ${(100 * plan.retainedBytes / q).toFixed(2)}% of the ` +
        `${humanizeBytes(q)} quota (target: under ${HISTORY_FRACTION * 100}%). The physical DB should stay under about ${humanizeBytes(plan.boundBytes)}. ` +
        `A bare integer means hours in periodic mode. Revision mode instead keeps the last N revisions, checked every 5 minutes: ` +
        `--auto-compaction-mode=revision --auto-compaction-retention=${plan.revisionRetention} holds the same history at today's rate but ` +
        `more time if writes slow down and less if they speed up. The compactor runs on the leader only; the compaction is replicated. ` +
        `${state.on === false ? `Compaction is off now (${state.evidence}). ` : ''}${bprCheck} ${budget.text} ${watch} ${found}`,
    });
  }
  out.push(quotaAdvice(growth, projection, plan, q, settings));
  out.push(defragAdvice(incident, plan, q));
  out.push(alertRules(growth, plan, q));
  const patroni = patroniFinding(d, churn, budget);
  if (patroni) out.push(patroni);
  out.push(runbook(d, incident));
  return out;
}

function defragAdvice(incident: Incident, plan: CompactionPlan | null, q: number): Recommendation {
  return {
    id: 'defrag',
    title: 'Defragment one member at a time when free pages exceed half the file',
    etcdFlags: [],
    configYaml: null,
    commands: ['etcdctl --endpoints="${ENDPOINT:?set ENDPOINT to one member}" defrag   # each member in turn: followers first, the leader last; it blocks that member while it runs'],
    rationale:
      `Compaction frees pages inside the file but never shrinks it; only defragmentation gives the space back, and the quota counts the physical size. ` +
      `With the compaction above the file should plateau near ${plan ? humanizeBytes(plan.boundBytes) : 'a few MB'}, so defragment when ` +
      `in-use/physical < 0.5 and the physical size exceeds ${humanizeBytes(Math.max(100e6, plan?.boundBytes ?? 0))} (the mixin's fragmentation rule), ` +
      `or the physical size passes 50% of ${humanizeBytes(q)}; otherwise a monthly check is enough.` +
      (incident.dbSizeAtNospace !== null ? ` At NOSPACE the DB was ${humanizeBytes(incident.dbSizeAtNospace)}.` : ''),
  };
}

function alertRules(growth: Growth, plan: CompactionPlan | null, q: number): Recommendation {
  const g = growth.bytesPerHour;
  const halfFill = g && g > 0 ? formatDuration(((q / 2) / g) * 3_600_000) : null;
  const revThreshold = plan ? Math.max(10_000, 3 * plan.retainedRevisions) : 100_000;
  const yaml = `groups:
- name: etcd-capacity
  rules:
  - alert: etcdDatabaseQuotaHalfFull
    expr: (etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes) * 100 > 50
    for: 10m
    labels: {severity: warning}
    annotations: {summary: "etcd DB above 50% of its quota; check compaction and defragment"}
  - alert: etcdDatabaseQuotaLowSpace
    expr: (last_over_time(etcd_mvcc_db_total_size_in_bytes[5m]) / last_over_time(etcd_server_quota_backend_bytes[5m])) * 100 > 95
    for: 10m
    labels: {severity: critical}
  - alert: etcdExcessiveDatabaseGrowth
    expr: predict_linear(etcd_mvcc_db_total_size_in_bytes[4h], 4*60*60) > etcd_server_quota_backend_bytes
    for: 10m
    labels: {severity: warning}
  - alert: etcdSlowDatabaseGrowth
    expr: predict_linear(etcd_mvcc_db_total_size_in_bytes[2d], 14*24*3600) > etcd_server_quota_backend_bytes
    for: 1h
    labels: {severity: warning}
  - alert: etcdCompactionNotRunning
    expr: etcd_debugging_mvcc_current_revision - etcd_debugging_mvcc_compact_revision > ${revThreshold}
    for: 30m
    labels: {severity: warning}`;
  return {
    id: 'alerts',
    title: 'Alert on quota use, on slow growth and on compaction not running',
    etcdFlags: [],
    configYaml: yaml,
    commands: [],
    rationale:
      `The mixin's 4h-window growth alert only sees the last hours before the quota${g ? `; at the measured ${humanizeBytes(g)}/h the quota goes from half to full in ${halfFill}` : ''}, ` +
      `so add a 50% alert and a 2-day-window, 14-day-horizon prediction. Uncompacted revisions above ${revThreshold} (three times the history the ` +
      `compaction plan keeps) mean compaction has stopped.`,
  };
}

function patroniFinding(d: Loaded, churn: Churn, budget: PatroniBudget): Recommendation | null {
  const status = churn.groups.find((g) => /\/status$/.test(g.group));
  const statusWrites = d.events.filter((e) => e.kind === 'patroni.nospace' && e.detail?.includes('_write_status')).reduce((n, e) => n + e.count, 0);
  if (!status && statusWrites === 0 && budget.loopWait === null) return null;
  return {
    id: 'patroni',
    title: 'Patroni rewrites its keys every HA loop: compaction is not optional',
    etcdFlags: [],
    configYaml: null,
    commands: [],
    rationale:
      `${status ? `The status key (${status.group}) holds ${(status.share * 100).toFixed(1)}% of the counted writes (${status.evidence.completeness} evidence). ` : ''}` +
      `${statusWrites ? `${statusWrites} failed _write_status calls are in the Patroni logs. ` : ''}` +
      'Patroni 2.1.6–3.0.x writes /status on every HA loop even when nothing changed (fixed in 3.1.0); every version writes members/<node> ' +
      'whenever the node\'s WAL position moved. Patroni never compacts etcd, so the etcd side must (Patroni\'s own demo uses --auto-compaction-retention=1). ' +
      budget.text,
  };
}

/** The settings found, with where, for every piece of advice that rests on them. */
function settingsFound(s: SettingsInForce): string {
  const lines = describeSettings(s);
  return lines.length ? `Settings found: ${lines.join('; ')}.` : 'No settings found in the data (no etcd start-up lines, no Patroni configuration).';
}

/** History held just before a compaction: periodic retention plus one interval; revision retention at the measured rate plus the 5-minute check. */
function retentionHeldMs(r: { mode: 'periodic' | 'revision'; amount: number }, revPerHour: number): number {
  if (r.mode === 'periodic') return r.amount + Math.min(r.amount, 3_600_000);
  return (r.amount / Math.max(revPerHour, 1e-9)) * 3_600_000 + 5 * 60_000;
}

/**
 * Watch safety: a watch resumed from a revision older than the retention gets `mvcc: required revision has been
 * compacted` and the client must re-read everything. The retention must outlast a client's reconnect gap.
 */
function watchSafety(s: SettingsInForce, plan: CompactionPlan | null, inForce: { mode: 'periodic' | 'revision'; amount: number } | null, revPerHour: number | null): string {
  const keepsMs = inForce ? (inForce.mode === 'periodic' ? inForce.amount : revPerHour ? (inForce.amount / revPerHour) * 3_600_000 : null)
    : plan ? plan.retentionHours * 3_600_000 : null;
  const what = inForce ? `the retention in force (${describeRetention(inForce)})` : plan ? `the ${plan.retention} retention advised` : 'a retention';
  const lw = patroniNumber(s, 'loop_wait')[0];
  const ttl = patroniNumber(s, 'ttl')[0];
  const patroniGap = lw && ttl ? (lw.value + ttl.value) * 1000 : null;
  return `Watch safety: a watch resumed from a compacted revision fails with "required revision has been compacted" and its client re-reads; ` +
    `${what} keeps ${keepsMs === null ? 'an unknown span' : `at least ${formatDuration(keepsMs)}`} of history. ` +
    (patroniGap !== null ? `Patroni reconnects within loop_wait + ttl = ${patroniGap / 1000} s (${lw!.where}, ${ttl!.where})${keepsMs !== null ? (keepsMs >= patroniGap ? ', inside it' : ': LONGER than the history kept, lengthen the retention') : ''}. `
      : 'Patroni reconnects within loop_wait + ttl (40 s with its defaults). ') +
    'Kubernetes clients relist on that error, and kube-apiserver compacts every 5 minutes on its own (--etcd-compaction-interval): keep at least 5m on a cluster it uses.';
}

/** Bytes per revision measured within regimes, cross-checked against a snapshot's status when one was ingested. */
function snapshotCrossCheck(d: Loaded, bpr: number | null): string {
  const readings = readSnapshotStatus(d.snapshots);
  const r = readings.find((x) => !x.historyCompacted) ?? readings[0];
  if (!r) return bpr === null ? '' : `Bytes per revision (${bpr}) measured within regimes; no snapshot to cross-check it.`;
  if (r.historyCompacted) return `The snapshot (${r.source}) holds compacted history: its ${r.bytesPerEntry.toFixed(0)} bytes per entry is not a per-revision figure.`;
  const ratio = bpr ? r.bytesPerEntry / bpr : null;
  return `Cross-check: the snapshot (${r.source}) holds ${r.totalKeys} entries in ${humanizeBytes(r.totalSizeBytes)}, ${r.bytesPerEntry.toFixed(0)} bytes per entry ` +
    `(live keys, free pages and bbolt's own pages included: an upper bound)${ratio !== null ? `; measured within regimes ${bpr} bytes/revision (${ratio.toFixed(2)}× ${ratio >= 0.8 ? 'consistent' : 'below the measured figure: check the sampling'})` : ''}.`;
}

const EIGHT_GIB = 8 * 1024 ** 3;

/** Quota advice within etcd's 8 GiB guidance: keep it when the bound fits with room; else the next power of two that does. */
function quotaAdvice(growth: Growth, projection: Projection, plan: CompactionPlan | null, q: number, s: SettingsInForce): Recommendation {
  const need = projection.verdict === 'bounded' ? projection.boundBytes ?? null : plan?.boundBytes ?? null;
  const fillHours = growth.bytesPerHour && growth.bytesPerHour > 0 ? q / growth.bytesPerHour : null;
  const where = s.quotaBytes.length ? ` (in force: ${s.quotaBytes[s.quotaBytes.length - 1]!.value} from ${s.quotaBytes[s.quotaBytes.length - 1]!.where})` : ` (${projection.quotaSource.detail})`;
  let target = q;
  if (need !== null && need * 2 > q) target = Math.min(EIGHT_GIB, 2 ** Math.ceil(Math.log2(need * 2)));
  const raise = target > q;
  return {
    id: 'quota',
    title: raise ? `Raise --quota-backend-bytes to ${target} (${humanizeBytes(target)}, within etcd's 8 GiB guidance)`
      : q === DEFAULT_QUOTA ? 'Keep the 2 GiB quota (set it explicitly)' : `Keep --quota-backend-bytes=${q}`,
    etcdFlags: [`--quota-backend-bytes=${target}`],
    configYaml: `quota-backend-bytes: ${target}`,
    commands: [],
    rationale:
      `Quota ${humanizeBytes(q)}${where}. ` +
      (need !== null ? `The DB should stay under about ${humanizeBytes(need)} (${projection.verdict === 'bounded' ? 'the back-tested bound' : 'the compaction plan above'}), ` +
        `${raise ? `more than half the quota: twice that, rounded up to a power of two and at most 8 GiB, is ${humanizeBytes(target)}` : `${(100 * need / q).toFixed(1)}% of it: the quota has room`}. `
        : `With compaction the retained history is small, far below ${humanizeBytes(q)}. `) +
      `A larger quota only buys time when compaction stops${fillHours ? `: at ${humanizeBytes(growth.bytesPerHour!)}/h the whole quota fills in ${formatDuration(fillHours * 3_600_000)}` : ''}. ` +
      `etcd warns above 8 GiB (its suggested maximum); beyond it keep less history rather than raise the quota. The quota check uses the physical size (free pages included), so defragmentation matters as much as the quota.`,
  };
}
