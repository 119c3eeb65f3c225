// etcdutl 3.5+ logs its offline work with zap's console encoder (tab-separated), on stderr:
//   2026-11-30T09:22:16+08:00	info	backend/backend.go:561	finished defragmenting directory	{"path": "…/member/snap/db", "current-db-size-bytes-diff": -24576, "current-db-size-bytes": 143360, …, "took": "15.572054ms"}
// (test/fixtures/etcd-3.5.16/etcdutl-defrag-etcd2.txt). `etcdutl defrag --data-dir` prints nothing else.
import { parseJsonVisible } from '../../units/json-visible.js';
import type { LogEvent } from '../../model.js';
import { parseGoDurationMs, parseTimestamp } from '../../units/time.js';

const CONSOLE = /^(\d{4}-\d\d-\d\dT\S+)\t(debug|info|warn|error)\t(\S+)\t([^\t]+?)(?:\t(\{.*\}))?$/;

export function isEtcdutlConsoleLine(line: string): boolean {
  const m = CONSOLE.exec(line);
  return m !== null && (m[3]!.startsWith('backend/') || m[3]!.startsWith('snapshot/'));
}

/** One console line → [] (known, nothing to keep), [event], or null (not etcdutl's). */
export function parseEtcdutlConsoleLine(line: string, lineNo: number): LogEvent[] | null {
  const m = CONSOLE.exec(line);
  if (!m || !(m[3]!.startsWith('backend/') || m[3]!.startsWith('snapshot/'))) return null;
  if (m[4] !== 'finished defragmenting directory') return [];
  let fields: Record<string, unknown> = {};
  try {
    fields = parseJsonVisible(m[5] ?? '{}') as Record<string, unknown>;
  } catch {
    fields = {};
  }
  const num = (k: string): number | null => (typeof fields[k] === 'number' ? (fields[k] as number) : null);
  const time = parseTimestamp(m[1]!, { tz: null });
  return [{
    kind: 'event', line: lineNo, time: time && time.basis === 'explicit' ? time : null, member: null,
    level: m[2] === 'error' ? 'error' : 'info', event: 'etcdctl.defrag', message: m[4]!, raw: line,
    detail: {
      tool: 'etcdutl', path: typeof fields.path === 'string' ? fields.path : null,
      dbSizeBytes: num('current-db-size-bytes'), dbSizeDiffBytes: num('current-db-size-bytes-diff'),
      dbSizeInUseBytes: num('current-db-size-in-use-bytes'),
      tookMs: typeof fields.took === 'string' ? parseGoDurationMs(fields.took) : null,
    },
  }];
}
