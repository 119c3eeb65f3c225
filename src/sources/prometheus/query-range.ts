// Prometheus' HTTP API, /api/v1/query_range (Prometheus 2.x, and Thanos, Mimir, VictoriaMetrics, which answer
// the same shape). Pure: the query text we send, and the response body → series. A response as Prometheus
// 2.42 (Debian bookworm) returns it:
//   {"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"etcd_mvcc_db_total_size_in_bytes",
//    "instance":"127.0.0.1:2379","job":"etcd-a"},"values":[[1764480000,"20480"],[1764480005,"20480"]]}]}}
import { ETCD_FIGURE_METRICS } from './etcd-metrics.js';

export interface RangeSeries {
  labels: Record<string, string>;
  /** [epoch ms, value] in time order. */
  points: [number, number][];
}

/** The metric names an import asks for: every figure, and the version (a label on a constant 1). */
export const IMPORT_METRICS: readonly string[] = [...new Set([...ETCD_FIGURE_METRICS.map(([n]) => n), 'etcd_server_version', 'etcd_server_id'])];

/**
 * `{job="etcd"}` → `{__name__=~"a|b|…",job="etcd"}`. The user's matchers are kept as written inside the braces;
 * null when the selector is not one brace pair (no metric name: the import chooses the names).
 */
export function buildImportQuery(selector: string | null): string | null {
  const names = `__name__=~"${IMPORT_METRICS.join('|')}"`;
  if (selector === null || selector.trim() === '' || selector.trim() === '{}') return `{${names}}`;
  const m = /^\s*\{(.*)\}\s*$/s.exec(selector);
  if (!m || /__name__/.test(m[1]!) || m[1]!.includes('}')) return null;
  const inner = m[1]!.trim().replace(/,\s*$/, '');
  return `{${names}${inner === '' ? '' : `,${inner}`}}`;
}

export type RangeParse = { ok: true; series: RangeSeries[] } | { ok: false; reason: string };

/** The body of a query_range answer. Values that are not numbers (NaN, "+Inf") are left out of points. */
export function parseQueryRange(body: string): RangeParse {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { ok: false, reason: `not JSON: ${body.slice(0, 80)}` };
  }
  if (!isObj(v)) return { ok: false, reason: 'not a JSON object' };
  if (v['status'] !== 'success') {
    const e = typeof v['error'] === 'string' ? v['error'] : 'no error text';
    return { ok: false, reason: `Prometheus said ${String(v['status'])}: ${e}` };
  }
  const data = v['data'];
  if (!isObj(data) || data['resultType'] !== 'matrix' || !Array.isArray(data['result'])) {
    return { ok: false, reason: 'expected data.resultType "matrix" with a result array' };
  }
  const series: RangeSeries[] = [];
  for (const r of data['result'] as unknown[]) {
    if (!isObj(r) || !isObj(r['metric']) || !Array.isArray(r['values'])) return { ok: false, reason: 'a result without metric and values' };
    const labels: Record<string, string> = {};
    for (const [k, lv] of Object.entries(r['metric'])) if (typeof lv === 'string') labels[k] = lv;
    const points: [number, number][] = [];
    for (const p of r['values'] as unknown[]) {
      if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'string') return { ok: false, reason: 'a value that is not [time, "number"]' };
      const n = Number(p[1]);
      if (Number.isFinite(n)) points.push([Math.round(p[0] * 1000), n]);
    }
    series.push({ labels, points });
  }
  return { ok: true, series };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The cluster of a series: its `cluster` label, else its job, else null (one cluster). */
export function clusterOfLabels(labels: Record<string, string>): string | null {
  return labels['cluster'] || labels['etcd_cluster'] || labels['job'] || null;
}
