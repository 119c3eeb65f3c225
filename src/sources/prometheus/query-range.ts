// Prometheus' HTTP API, /api/v1/query_range (Prometheus 2.x, and Thanos, Mimir, VictoriaMetrics, which answer
// the same shape). Pure: the query text we send, and the response body → series. A response as Prometheus
// 2.42 (Debian bookworm) returns it:
//   {"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"etcd_mvcc_db_total_size_in_bytes",
//    "instance":"127.0.0.1:2379","job":"etcd-a"},"values":[[1764480000,"20480"],[1764480005,"20480"]]}]}}
import { ETCD_FIGURE_METRICS } from './etcd-metrics.js';

export interface RangeSeries {
  labels: Record<string, string>;
  /** The label set as one string, the same for the same labels (to count distinct series cheaply). */
  key: string;
  /** Epoch ms of each point, in time order (finite values only); values[i] is the value at timesMs[i]. */
  timesMs: number[];
  values: number[];
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

/**
 * The body of a query_range answer. Values that are not numbers (NaN, "+Inf") are left out. Prometheus' own
 * compact layout is read by a scanner that makes no object per point (a 30-day import is millions of points:
 * JSON.parse's [t, "v"] arrays cost more than the rest of the import); anything else, including whitespace,
 * other key orders or extra fields (Thanos' "warnings"), goes through JSON.parse with the same result.
 */
export function parseQueryRange(body: string, labelCache?: LabelCache): RangeParse {
  return scanPrometheusMatrix(body, labelCache) ?? parseGenericMatrix(body);
}

/**
 * The label sets already read, by the text of their metric object: an import asks for the same series chunk after
 * chunk (3,000 series × 261 answers at 200 clusters), and each would otherwise be a JSON.parse and two objects that
 * live as long as the chunk. The labels handed out are shared: read them, do not change them.
 */
export type LabelCache = Map<string, { labels: Record<string, string>; key: string }>;

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
// eslint-disable-next-line no-control-regex
const ODD_IN_STRING = /["\\\u0000-\u001f]/;
const HEAD = '{"status":"success","data":{"resultType":"matrix","result":[';

/** Prometheus' exact layout (2.x: no whitespace, keys in this order), or null when the body is anything else. */
export function scanPrometheusMatrix(body: string, labelCache?: LabelCache): RangeParse | null {
  if (!body.startsWith(HEAD)) return null;
  let i = HEAD.length;
  const series: RangeSeries[] = [];
  if (body.charCodeAt(i) !== 93 /* ] */) {
    for (;;) {
      if (!body.startsWith('{"metric":', i)) return null;
      const mStart = i + 10;
      const mEnd = endOfObject(body, mStart);
      if (mEnd < 0) return null;
      const text = body.slice(mStart, mEnd);
      let known = labelCache?.get(text);
      if (known === undefined) {
        let metric: unknown;
        try {
          metric = JSON.parse(text);
        } catch {
          return null;
        }
        if (!isObj(metric)) return null;
        // A copy of the text, not a slice of the body (a slice would keep the whole answer alive).
        known = { labels: labelsOf(metric), key: Buffer.from(text, 'utf8').toString('utf8') };
        labelCache?.set(known.key, known);
      }
      i = mEnd;
      if (!body.startsWith(',"values":[', i)) return null;
      i += 11;
      const timesMs: number[] = [];
      const values: number[] = [];
      while (body.charCodeAt(i) === 91 /* [ */) {
        const close = scanPoint(body, i + 1, timesMs, values);
        if (close < 0) return null;
        i = close;
        if (body.charCodeAt(i) !== 44 /* , */) break;
        if (body.charCodeAt(++i) !== 91) return null; // `,]`: not JSON
      }
      if (!body.startsWith(']}', i)) return null;
      i += 2;
      series.push({ labels: known.labels, key: known.key, timesMs, values });
      if (body.charCodeAt(i) === 44) i++;
      else break;
    }
  }
  return body.slice(i) === ']}}' ? { ok: true, series } : null;
}

/**
 * One `[t,"v"]` from just after its `[`: the point appended (when v is a finite number), the index after its `]`
 * returned, or -1 for what the scanner does not read. Whole seconds and whole-number values, what etcd's gauges and
 * counters mostly are, are read digit by digit (exact below 2^53); anything else through Number() on the text.
 */
function scanPoint(body: string, i: number, timesMs: number[], values: number[]): number {
  let k = i;
  let t = 0;
  let c = body.charCodeAt(k);
  if (c >= 49 && c <= 57) {
    for (; c >= 48 && c <= 57 && k - i < 12; c = body.charCodeAt(++k)) t = t * 10 + (c - 48);
  }
  let tMs: number;
  let comma: number;
  if (k > i && c === 44 && body.charCodeAt(k + 1) === 34) {
    tMs = t * 1000;
    comma = k;
  } else {
    comma = body.indexOf(',"', i);
    if (comma < 0) return -1;
    const tText = body.slice(i, comma);
    if (!JSON_NUMBER.test(tText)) return -1;
    tMs = Math.round(Number(tText) * 1000);
  }
  const v0 = comma + 2;
  k = v0;
  let v = 0;
  c = body.charCodeAt(k);
  const neg = c === 45;
  if (neg) c = body.charCodeAt(++k);
  const d0 = k;
  if (c >= 48 && c <= 57) {
    for (; c >= 48 && c <= 57 && k - d0 < 15; c = body.charCodeAt(++k)) v = v * 10 + (c - 48);
  }
  if (k > d0 && c === 34 && body.charCodeAt(k + 1) === 93) {
    timesMs.push(tMs);
    values.push(neg ? -v : v);
    return k + 2;
  }
  const close = body.indexOf('"]', v0);
  if (close < 0) return -1;
  const text = body.slice(v0, close);
  // What JSON.parse would refuse or read differently (an escape, a control character) goes the slow way.
  if (ODD_IN_STRING.test(text)) return -1;
  const n = Number(text);
  if (Number.isFinite(n) && text !== '') {
    timesMs.push(tMs);
    values.push(n);
  }
  return close + 2;
}

/** The index just past the JSON object that starts at i (strings and escapes respected), or -1. */
function endOfObject(s: string, i: number): number {
  if (s.charCodeAt(i) !== 123 /* { */) return -1;
  let depth = 0;
  for (let k = i; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 34 /* " */) {
      for (k++; k < s.length && s.charCodeAt(k) !== 34; k++) if (s.charCodeAt(k) === 92 /* \ */) k++;
    } else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return k + 1;
  }
  return -1;
}

function labelsOf(metric: Record<string, unknown>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, lv] of Object.entries(metric)) if (typeof lv === 'string') labels[k] = lv;
  return labels;
}

/** Any JSON layout of a query_range answer (JSON.parse; the reference the scanner must agree with). */
export function parseGenericMatrix(body: string): RangeParse {
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
    const timesMs: number[] = [];
    const values: number[] = [];
    for (const p of r['values'] as unknown[]) {
      if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'string') return { ok: false, reason: 'a value that is not [time, "number"]' };
      const n = Number(p[1]);
      if (Number.isFinite(n) && p[1] !== '') {
        timesMs.push(Math.round(p[0] * 1000));
        values.push(n);
      }
    }
    const labels = labelsOf(r['metric']);
    // Prometheus prints a series' labels sorted by name: the same key as the scanner's text of the metric object.
    const key = JSON.stringify(Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]])));
    series.push({ labels, key, timesMs, values });
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
