// The Prometheus text exposition format (version 0.0.4), as etcd's /metrics serves it. Pure: text → samples.
// No npm parser is used: the maintained ones (prom-client) only write the format, and the readers on npm
// (parse-prometheus-text-format) are unmaintained since 2019; the subset etcd prints is small. Real lines:
//   # TYPE etcd_mvcc_db_total_size_in_bytes gauge
//   etcd_mvcc_db_total_size_in_bytes 20480
//   etcd_server_quota_backend_bytes 2.147483648e+09
//   etcd_server_version{server_version="3.4.23"} 1
// A sample line may end in a millisecond timestamp (`name 1 1700000000000`): kept when present.

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The line's own timestamp (ms), when it has one. */
  timestampMs: number | null;
  line: number;
}

export interface MetricIssue {
  line: number;
  reason: string;
  excerpt: string;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_RE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,)?/;

/** Whether a text looks like an exposition page: `# HELP|TYPE etcd_…` or etcd metric lines among its first lines. */
export function looksLikeMetricsPage(head: string): boolean {
  const lines = head.split('\n').slice(0, 40).filter((l) => l.trim() !== '');
  if (lines.length === 0) return false;
  const shaped = lines.filter((l) => /^# (?:HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(l) || /^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})? \S+( -?\d+)?$/.test(l));
  return shaped.length === lines.length && /(?:^|\n)(?:# (?:HELP|TYPE) )?(?:etcd|go|process|grpc)_/.test(head);
}

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(v: string): number | null {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(v)) return null;
  return Number(v);
}

/** One sample line (not a comment). */
export function parseSampleLine(text: string, line: number): MetricSample | MetricIssue {
  const bad = (reason: string): MetricIssue => ({ line, reason, excerpt: text.slice(0, 120) });
  const m = NAME_RE.exec(text);
  if (!m) return bad('no metric name');
  const name = m[0];
  let rest = text.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      const t = rest.trimStart();
      if (t.startsWith('}')) {
        rest = t.slice(1);
        break;
      }
      const l = LABEL_RE.exec(t);
      if (!l) return bad('bad label set');
      labels[l[1]!] = unescapeLabel(l[2]!);
      rest = t.slice(l[0].length);
      if (!l[3] && !rest.trimStart().startsWith('}')) return bad('bad label set');
    }
  }
  const parts = rest.trim().split(/\s+/);
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') return bad('expected a value and an optional timestamp');
  const value = parseValue(parts[0]!);
  if (value === null) return bad('value is not a number');
  let timestampMs: number | null = null;
  if (parts[1] !== undefined) {
    if (!/^-?\d{1,15}$/.test(parts[1])) return bad('timestamp is not whole milliseconds');
    timestampMs = Number(parts[1]);
  }
  return { name, labels, value, timestampMs, line };
}

/** Every sample of a page, with the lines that were not samples or comments. */
export function parseExposition(text: string): { samples: MetricSample[]; issues: MetricIssue[] } {
  const samples: MetricSample[] = [];
  const issues: MetricIssue[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.replace(/\r$/, '');
    if (t.trim() === '' || t.startsWith('#')) continue;
    const r = parseSampleLine(t, i + 1);
    if ('reason' in r) issues.push(r);
    else samples.push(r);
  }
  return { samples, issues };
}
