// `collect`: one poll of live etcd members through the HTTP/JSON gateway and /metrics → one reading per member.
// A member that refuses, fails TLS, answers an error or does not answer within the deadline becomes a reading
// with `errors` and no figures: the outage is in the store, and the other members' readings go on.
import type { FleetSample } from '../model.js';
import { parseGatewayAlarms, parseGatewayMembers, parseGatewayStatus } from '../sources/live/index.js';
import { compactRevisionOrNull, parseExposition, readEtcdMetrics, wholeOrNull } from '../sources/prometheus/index.js';
import { emptyReading } from './prometheus-import.js';
import { HttpFailure, type HttpClient } from './http-client.js';

export interface CollectAuth {
  user: string;
  password: string;
}

export interface Poller {
  /** One reading per endpoint, in the order given. */
  poll(): Promise<FleetSample[]>;
}

export function createPoller(http: HttpClient, endpoints: readonly string[], auth: CollectAuth | null, cluster: string | null): Poller {
  const tokens = new Map<string, string>();
  const knownCluster = new Map<string, string>();
  const knownMember = new Map<string, string>();

  async function call(ep: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = {};
    if (auth) {
      let t = tokens.get(ep);
      if (t === undefined) {
        const r = await http.request(`${ep}/v3/auth/authenticate`, { method: 'POST', body: JSON.stringify({ name: auth.user, password: auth.password }) });
        const tok = (() => { try { return (JSON.parse(r.body) as { token?: unknown }).token; } catch { return undefined; } })();
        if (r.status !== 200 || typeof tok !== 'string') throw new HttpFailure(`authenticate as ${auth.user}: HTTP ${r.status} ${r.body.slice(0, 120)}`);
        t = tok;
        tokens.set(ep, t);
      }
      headers['authorization'] = t;
    }
    const r = await http.request(`${ep}${path}`, body === undefined ? { headers } : { method: 'POST', body: JSON.stringify(body), headers });
    // An expired or revoked token (etcd restarts forget simple tokens): authenticate again on the next poll.
    if (auth && r.status === 401) tokens.delete(ep);
    return r;
  }

  async function readOne(ep: string, tsMs: number): Promise<FleetSample> {
    const s = emptyReading('gateway', tsMs, cluster ?? knownCluster.get(ep) ?? null, ep);
    s.clusterId = knownCluster.get(ep) ?? null;
    s.memberId = knownMember.get(ep) ?? null;
    const fail = (what: string, e: unknown): void => {
      s.errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    };
    try {
      const r = await call(ep, '/v3/maintenance/status', {});
      const st = parseGatewayStatus(r.body);
      if ('error' in st || r.status !== 200) throw new HttpFailure(`HTTP ${r.status} ${'error' in st ? st.error : ''}`.trim());
      Object.assign(s, {
        clusterId: st.clusterId, memberId: st.memberId, revision: st.revision, version: st.version, dbSizeBytes: st.dbSizeBytes,
        dbSizeInUseBytes: st.dbSizeInUseBytes, quotaBytes: st.quotaBytes, isLeader: st.isLeader,
      });
      s.errors.push(...st.errors);
      if (st.clusterId) knownCluster.set(ep, st.clusterId);
      if (st.memberId) knownMember.set(ep, st.memberId);
      if (cluster === null) s.cluster = st.clusterId;
    } catch (e) {
      fail('status', e);
      return s; // down or slow: the outage is this reading; the other calls would only wait again
    }
    const [alarms, metrics] = await Promise.allSettled([
      call(ep, '/v3/maintenance/alarm', { action: 'GET' }),
      call(ep, '/metrics', undefined),
    ]);
    if (alarms.status === 'fulfilled') {
      const a = parseGatewayAlarms(alarms.value.body);
      if ('error' in a) fail('alarm list', a.error);
      else s.alarms = [...new Set(a.alarms.map((x) => x.alarm))].sort();
    } else fail('alarm list', alarms.reason);
    if (metrics.status === 'fulfilled' && metrics.value.status === 200) {
      const m = readEtcdMetrics(parseExposition(metrics.value.body).samples);
      s.compactRevision = compactRevisionOrNull(m.figures.compactRevision);
      s.keysTotal = wholeOrNull(m.figures.keys);
      s.putsTotal = wholeOrNull(m.figures.puts);
      s.quotaBytes ??= wholeOrNull(m.figures.quota);
      s.dbSizeInUseBytes ??= wholeOrNull(m.figures.dbSizeInUse);
    } else fail('/metrics', metrics.status === 'fulfilled' ? `HTTP ${metrics.value.status}` : metrics.reason);
    return s;
  }

  return {
    async poll() {
      const tsMs = Date.now();
      return Promise.all(endpoints.map((ep) => readOne(ep, tsMs)));
    },
  };
}

/** The members a cluster names (member list), for `collect` given one endpoint: their client URLs. */
export async function discoverEndpoints(http: HttpClient, ep: string, headers: Record<string, string> = {}): Promise<string[]> {
  const r = await http.request(`${ep}/v3/cluster/member/list`, { method: 'POST', body: '{}', headers });
  const m = parseGatewayMembers(r.body);
  if ('error' in m) return [];
  return [...new Set(m.members.flatMap((x) => x.clientUrls.slice(0, 1)))].sort();
}
