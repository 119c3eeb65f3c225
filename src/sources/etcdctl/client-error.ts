// Errors etcdctl itself prints when a request fails: what a client saw, a separate kind of evidence
// from the server's alarm (a client may see `database space exceeded` from the API-level quota check
// before, or without, any alarm being listed).
//   Error: etcdserver: mvcc: database space exceeded                       (3.4/3.5, stderr)
//   Error:  context deadline exceeded
//   {"level":"warn","ts":"2023-…","logger":"etcd-client","caller":"v3/retry_interceptor.go:62",
//    "msg":"retrying of unary invoker failed",…,"error":"rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded"}
import type { LogEvent, RecordTime } from '../../model.js';

// Server and connection errors only: usage errors (`Error: table not supported as output format`,
// `Error: unknown flag`) say nothing about the cluster.
const SERVER_ERROR = /^(?:etcdserver: |rpc error: |context deadline exceeded|grpc: |dial tcp |.*(?:connection refused|database space exceeded|no space|i\/o timeout|server closed|Unavailable|DeadlineExceeded))/;

/** The error text of an `Error: …` line etcdctl printed; null when it names no server/connection error. */
export function clientErrorText(line: string): string | null {
  if (!line.startsWith('Error:')) return null;
  const text = line.slice(6).trim();
  return SERVER_ERROR.test(text) ? text : null;
}

/** The client's retry warning (3.5+, zap JSON on stderr) is this message. */
export const CLIENT_RETRY_MSG = 'retrying of unary invoker failed';

export function clientErrorEvent(error: string, line: number, raw: string, time: RecordTime | null, level: LogEvent['level'] = 'error'): LogEvent {
  const code = /\bcode = (\w+)/.exec(error)?.[1] ?? null;
  const alarm = /database space exceeded|\bno space\b/.test(error) ? 'NOSPACE' : /\bcorrupt/i.test(error) ? 'CORRUPT' : null;
  return {
    kind: 'event', line, time, member: null, level, event: 'etcdctl.client.error', message: error, raw,
    detail: { error, code, alarm },
  };
}
