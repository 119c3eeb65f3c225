// etcd's own metrics → one member's figures. The names, as etcd 3.4.23 and 3.5.16 serve them on /metrics:
//   etcd_mvcc_db_total_size_in_bytes 20480
//   etcd_mvcc_db_total_size_in_use_in_bytes 16384
//   etcd_server_quota_backend_bytes 2.147483648e+09
//   etcd_debugging_mvcc_current_revision 2          etcd_debugging_mvcc_compact_revision 1
//   etcd_debugging_mvcc_keys_total 1                etcd_debugging_mvcc_put_total 1 (3.5 also: etcd_mvcc_put_total)
//   etcd_server_version{server_version="3.4.23"} 1  etcd_server_id{server_id="bdae9bbc11dd390d"} 1
//   etcd_server_is_leader 1
// etcd 3.3 named the size etcd_debugging_mvcc_db_total_size_in_bytes: read as the same figure.
import type { MetricSample } from './text-format.js';

export type EtcdFigure = 'dbSize' | 'dbSizeInUse' | 'quota' | 'revision' | 'compactRevision' | 'keys' | 'puts' | 'isLeader';

/** Metric name → figure, first name preferred when a page has both. */
export const ETCD_FIGURE_METRICS: readonly [string, EtcdFigure][] = [
  ['etcd_mvcc_db_total_size_in_bytes', 'dbSize'],
  ['etcd_debugging_mvcc_db_total_size_in_bytes', 'dbSize'],
  ['etcd_mvcc_db_total_size_in_use_in_bytes', 'dbSizeInUse'],
  ['etcd_server_quota_backend_bytes', 'quota'],
  ['etcd_debugging_mvcc_current_revision', 'revision'],
  ['etcd_debugging_mvcc_compact_revision', 'compactRevision'],
  ['etcd_debugging_mvcc_keys_total', 'keys'],
  ['etcd_mvcc_put_total', 'puts'],
  ['etcd_debugging_mvcc_put_total', 'puts'],
  ['etcd_server_is_leader', 'isLeader'],
];

export const FIGURE_OF = new Map(ETCD_FIGURE_METRICS.map(([n, f]) => [n, f]));

export interface EtcdMetricsReading {
  figures: Partial<Record<EtcdFigure, number>>;
  version: string | null;
  /** hex, as etcd_server_id's label prints it. */
  serverId: string | null;
}

/** The figures of one member's page (samples of one scrape). Non-finite values are left out. */
export function readEtcdMetrics(samples: readonly MetricSample[]): EtcdMetricsReading {
  const figures: Partial<Record<EtcdFigure, number>> = {};
  const rank = new Map<EtcdFigure, number>();
  let version: string | null = null;
  let serverId: string | null = null;
  for (const s of samples) {
    if (s.name === 'etcd_server_version' && s.labels['server_version']) version = s.labels['server_version'];
    else if (s.name === 'etcd_server_id' && s.labels['server_id'] && /^[0-9a-f]{1,16}$/i.test(s.labels['server_id'])) {
      serverId = s.labels['server_id'].toLowerCase();
    }
    const f = FIGURE_OF.get(s.name);
    if (f === undefined || !Number.isFinite(s.value)) continue;
    const r = ETCD_FIGURE_METRICS.findIndex(([n]) => n === s.name);
    if ((rank.get(f) ?? Infinity) <= r) continue;
    rank.set(f, r);
    figures[f] = s.value;
  }
  return { figures, version, serverId };
}

/** Whole numbers only (sizes, revisions, counters); a float or a value past 2^53 is not kept exactly: null. */
export function wholeOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/** etcd_debugging_mvcc_compact_revision is -1 until the first compaction: kept as -1 ("never compacted"). */
export function compactRevisionOrNull(v: number | undefined): number | null {
  return v === -1 ? -1 : wholeOrNull(v);
}
