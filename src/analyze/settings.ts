// The settings in force, read from what the store already holds, each with the file:line it came from:
// - zap `starting an etcd server` (3.4/3.5): every flag as a field, e.g.
//   {"msg":"starting an etcd server","etcd-version":"3.4.23",…,"name":"etcd1","snapshot-count":2000,…,
//    "quota-backend-bytes":1048576,…,"auto-compaction-mode":"periodic","auto-compaction-retention":"0s",…}
//   (revision mode keeps its retention in a time.Duration: 1000 revisions print as "1µs");
// - capnslog flag lines after `etcdmain: etcd Version: 3.4.23`: `embed: name = etcd2`, `embed: snapshot count = 2000`;
// - compaction actually running: `finished scheduled compaction`, the periodic/revision compactor's lines
//   (zap "compact-period"/"revision-compaction-retention"; capnslog `(retention: 1m0s)`, `(retention: 1000 revisions)`).
import type { Db } from '../store/open.js';
import { parseGoDurationMs } from '../units/time.js';
import { sourceInCluster, type ClusterScope } from './clusters.js';

export interface Setting<T> {
  value: T;
  member: string | null;
  /** path:line of the record it was read from. */
  where: string;
}

export interface CompactionSeen {
  count: number;
  firstAt: number;
  lastAt: number;
  /** Median time between compactions, when at least two were seen. */
  medianIntervalMs: number | null;
  where: string;
}

export interface SettingsInForce {
  version: Setting<string>[];
  name: Setting<string>[];
  quotaBytes: Setting<number>[];
  compactionMode: Setting<string>[];
  /** As etcd printed it: `1m0s`, `0s`, `1000 revisions`. */
  compactionRetention: Setting<string>[];
  /** Periodic retention in ms, or revision retention in revisions; 0 = off. */
  retention: Setting<{ mode: 'periodic' | 'revision'; amount: number }>[];
  snapshotCount: Setting<number>[];
  compactionSeen: CompactionSeen | null;
  patroni: Setting<string>[];
}

interface RawRow { kind: string; message: string; raw: string; detail: string | null; member: string | null; ts_ms: number | null; path: string; line: number; id: number }

const NOTABLE = `e.kind <> 'etcd.other' AND e.kind <> 'patroni.other' AND e.kind <> 'postgres.log'`;

export function readSettings(db: Db, untilMs: number | null, cluster: ClusterScope | null = null): SettingsInForce {
  const cut = `${untilMs === null ? '1=1' : `(e.ts_ms IS NULL OR e.ts_ms <= ${Math.floor(untilMs)})`} AND ${sourceInCluster('src', cluster)}`;
  const rows = db.prepare(`
    SELECT e.id, e.kind, e.message, e.raw, e.detail, e.member, e.ts_ms, src.path, e.line
    FROM events e JOIN sources src ON src.id = e.source_id
    WHERE ${NOTABLE} AND ${cut} AND e.kind IN ('etcd.start', 'etcd.compaction.finished', 'etcd.compaction.auto', 'etcd.quota.config')
    ORDER BY e.ts_ms, src.path, e.line`).all() as RawRow[];
  const s: SettingsInForce = {
    version: [], name: [], quotaBytes: [], compactionMode: [], compactionRetention: [], retention: [], snapshotCount: [],
    compactionSeen: null, patroni: [],
  };
  const flagLines = db.prepare(`
    SELECT e.id, e.kind, e.message, e.raw, e.detail, e.member, e.ts_ms, src.path, e.line
    FROM events e JOIN sources src ON src.id = e.source_id
    WHERE e.id > ? AND e.id <= ? + 40 AND e.source_id = (SELECT source_id FROM events WHERE id = ?) ORDER BY e.id`);
  const finished: RawRow[] = [];
  for (const r of rows) {
    const where = `${r.path}:${r.line}`;
    if (r.kind === 'etcd.start') {
      const f = zapFields(r.raw);
      if (f) readZapStart(f, r.member, where, s);
      else {
        const v = /etcd Version: (\S+)/.exec(r.raw)?.[1];
        if (v) s.version.push({ value: v, member: r.member, where });
        // capnslog prints its flags on the lines that follow `etcd Version:` (rowids are in line order per source).
        for (const l of flagLines.all(r.id, r.id, r.id) as RawRow[]) readCapnslogFlag(l, s);
      }
    } else if (r.kind === 'etcd.quota.config') {
      const q = numField(zapFields(r.raw), 'quota-size-bytes') ?? numberIn(r.detail, 'quotaBytes');
      if (q !== null && !s.quotaBytes.some((x) => x.member === r.member && x.value === q)) s.quotaBytes.push({ value: q, member: r.member, where });
    } else {
      readCompactionLine(r, where, s);
      // The compactor's own lines (not an operator's `etcdctl compact`) show auto-compaction at work.
      if (r.kind === 'etcd.compaction.auto' && r.ts_ms !== null && !r.raw.includes('failed') && !r.raw.includes('Failed')) finished.push(r);
    }
  }
  s.compactionSeen = summariseCompactions(finished);
  readPatroniConfigSettings(db, cluster, s);
  return s;
}

/** Patroni settings kept from its YAML (the settings table, migration 11) that the advice uses. */
const PATRONI_KEYS = ['scope', 'name', 'loop_wait', 'ttl', 'retry_timeout', 'key_prefix'];

// A configuration has no time: it is in force whatever --until says. Each row names its file and the line of its key
// (`loop_wait: 10` under `bootstrap: dcs:` in Patroni's postgres0.yml).
function readPatroniConfigSettings(db: Db, cluster: ClusterScope | null, s: SettingsInForce): void {
  const rows = db.prepare(`
    SELECT st.name, st.value, st.line, st.member, src.path FROM settings st JOIN sources src ON src.id = st.source_id
    WHERE st.name IN (${PATRONI_KEYS.map(() => '?').join(',')}) AND ${sourceInCluster('src', cluster)}
    ORDER BY src.path, st.line, st.id`).all(...PATRONI_KEYS) as { name: string; value: string; line: number | null; member: string | null; path: string }[];
  for (const r of rows) s.patroni.push({ value: `${r.name} ${r.value}`, member: r.member, where: r.line === null ? r.path : `${r.path}:${r.line}` });
}

/** A numeric Patroni setting (`loop_wait`, `ttl`, `retry_timeout`) with where it was read. */
export function patroniNumber(s: SettingsInForce, name: string): Setting<number>[] {
  const out: Setting<number>[] = [];
  for (const x of s.patroni) {
    const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`).exec(x.value);
    if (m) out.push({ value: Number(m[1]), member: x.member, where: x.where });
  }
  return out;
}

/** Patroni node names from its configurations (`name:`). */
export function patroniNames(s: SettingsInForce): string[] {
  return [...new Set(s.patroni.filter((x) => x.value.startsWith('name ')).map((x) => x.value.slice(5)))].sort();
}

function readZapStart(f: Record<string, unknown>, member: string | null, where: string, s: SettingsInForce): void {
  const str = (k: string): string | null => (typeof f[k] === 'string' ? (f[k] as string) : null);
  const name = str('name');
  const who = name ?? member;
  const version = str('etcd-version');
  if (version) s.version.push({ value: version, member: who, where });
  if (name) s.name.push({ value: name, member: who, where });
  const quota = numField(f, 'quota-backend-bytes') ?? numField(f, 'quota-size-bytes');
  if (quota !== null) s.quotaBytes.push({ value: quota === 0 ? 2 * 1024 ** 3 : quota, member: who, where });
  const snap = numField(f, 'snapshot-count');
  if (snap !== null) s.snapshotCount.push({ value: snap, member: who, where });
  const mode = str('auto-compaction-mode');
  const ret = str('auto-compaction-retention') ?? (typeof f['auto-compaction-retention'] === 'number' ? String(f['auto-compaction-retention']) : null);
  if (mode) s.compactionMode.push({ value: mode, member: who, where });
  if (ret !== null) {
    // Revision retention N is stored as time.Duration(N): "1µs" is 1000 revisions.
    const ms = parseGoDurationMs(ret);
    const amount = ms === null ? Number(ret) : mode === 'revision' ? Math.round(ms * 1e6) : ms;
    s.compactionRetention.push({ value: mode === 'revision' && ms !== null ? `${amount} revisions` : ret, member: who, where });
    if (Number.isFinite(amount)) s.retention.push({ value: { mode: mode === 'revision' ? 'revision' : 'periodic', amount }, member: who, where });
  }
}

const CAPNSLOG_FLAGS: [RegExp, (m: RegExpExecArray, r: RawRow, where: string, s: SettingsInForce) => void][] = [
  [/embed: name = (\S+)/, (m, r, w, s) => s.name.push({ value: m[1]!, member: r.member ?? m[1]!, where: w })],
  [/embed: snapshot count = (\d+)/, (m, r, w, s) => s.snapshotCount.push({ value: Number(m[1]), member: r.member, where: w })],
];

function readCapnslogFlag(r: RawRow, s: SettingsInForce): void {
  for (const [re, take] of CAPNSLOG_FLAGS) {
    const m = re.exec(r.raw);
    if (m) take(m, r, `${r.path}:${r.line}`, s);
  }
}

/** The compactor's own lines name its mode and retention: the settings seen at work. */
function readCompactionLine(r: RawRow, where: string, s: SettingsInForce): void {
  if (r.kind !== 'etcd.compaction.auto') return;
  const f = zapFields(r.raw);
  let mode: 'periodic' | 'revision' | null = null;
  let amount: number | null = null;
  let text: string | null = null;
  if (f) {
    mode = typeof f.msg === 'string' && f.msg.includes('periodic') ? 'periodic' : 'revision';
    if (typeof f['compact-period'] === 'string') { text = f['compact-period']; amount = parseGoDurationMs(text); }
    const revRet = numField(f, 'revision-compaction-retention');
    if (revRet !== null) { text = `${revRet} revisions`; amount = revRet; }
  } else {
    const m = /\(retention: ([^)]*)\)/.exec(r.raw);
    if (m) {
      text = m[1]!;
      const revs = /^(\d+) revisions$/.exec(text);
      mode = revs ? 'revision' : 'periodic';
      amount = revs ? Number(revs[1]) : parseGoDurationMs(text);
    }
  }
  if (mode === null || amount === null || text === null) return;
  if (s.retention.some((x) => x.value.mode === mode && x.value.amount === amount && x.where.startsWith('seen '))) return;
  s.retention.push({ value: { mode, amount }, member: r.member, where: `seen running at ${where}` });
  if (!s.compactionMode.some((x) => x.value === mode)) s.compactionMode.push({ value: mode, member: r.member, where });
  if (!s.compactionRetention.some((x) => x.value === text)) s.compactionRetention.push({ value: text, member: r.member, where });
}

function summariseCompactions(rows: RawRow[]): CompactionSeen | null {
  if (rows.length === 0) return null;
  // Each compaction logs a start and an end line (and only the leader's compactor runs): count one per revision.
  const byRev = new Map<string, number>();
  for (const r of rows) {
    const rev = String(numberIn(r.detail, 'revision') ?? r.ts_ms);
    if (!byRev.has(rev)) byRev.set(rev, r.ts_ms!);
  }
  const times = [...byRev.values()].sort((a, b) => a - b);
  const gaps = times.slice(1).map((t, i) => t - times[i]!).sort((a, b) => a - b);
  const first = rows[0]!;
  return {
    count: times.length, firstAt: times[0]!, lastAt: times[times.length - 1]!,
    medianIntervalMs: gaps.length ? gaps[gaps.length >> 1]! : null, where: `${first.path}:${first.line}`,
  };
}

/** Is compaction on, by configuration or by what was seen running? */
export function compactionState(s: SettingsInForce): { on: boolean | null; evidence: string } {
  const seen = s.compactionSeen;
  const configured = s.retention.find((r) => !r.where.startsWith('seen ') && r.value.amount > 0);
  const off = s.retention.find((r) => !r.where.startsWith('seen ') && r.value.amount === 0);
  if (seen && seen.count >= 1) {
    const every = seen.medianIntervalMs !== null ? `, about every ${Math.round(seen.medianIntervalMs / 1000)} s` : '';
    return { on: true, evidence: `${seen.count} compaction(s) seen running (first at ${seen.where}${every})` };
  }
  if (configured) return { on: true, evidence: `auto-compaction ${configured.value.mode} ${describeRetention(configured.value)} configured (${configured.where})` };
  if (off) return { on: false, evidence: `auto-compaction off (retention 0, ${off.where})` };
  return { on: null, evidence: 'no compaction setting in the data' };
}

export function describeRetention(r: { mode: 'periodic' | 'revision'; amount: number }): string {
  return r.mode === 'revision' ? `${r.amount} revisions` : `${r.amount / 1000} s`;
}

/** One line per setting found, with where: for the evidence of every analysis. */
export function describeSettings(s: SettingsInForce): string[] {
  const out: string[] = [];
  const add = <T>(label: string, list: Setting<T>[], show: (v: T) => string = String): void => {
    const seen = new Set<string>();
    for (const x of list) {
      const k = `${x.member}|${show(x.value)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(`${label} ${show(x.value)}${x.member ? ` (${x.member})` : ''} from ${x.where}`);
    }
  };
  add('etcd version', s.version);
  add('quota-backend-bytes', s.quotaBytes);
  add('auto-compaction-mode', s.compactionMode);
  add('auto-compaction-retention', s.compactionRetention);
  add('snapshot-count', s.snapshotCount);
  add('Patroni', s.patroni);
  if (s.compactionSeen) {
    const c = s.compactionSeen;
    out.push(`compaction seen running ${c.count} time(s)${c.medianIntervalMs !== null ? `, median interval ${Math.round(c.medianIntervalMs / 1000)} s` : ''}, first at ${c.where}`);
  }
  return out;
}

function zapFields(raw: string): Record<string, unknown> | null {
  const at = raw.indexOf('{"');
  if (at < 0) return null;
  try {
    const v = JSON.parse(raw.slice(at)) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function numField(f: Record<string, unknown> | null, k: string): number | null {
  const v = f?.[k];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

function numberIn(detail: string | null, k: string): number | null {
  if (!detail) return null;
  try {
    return numField(JSON.parse(detail) as Record<string, unknown>, k);
  } catch {
    return null;
  }
}
