// etcd's HTTP/JSON gateway (grpc-gateway over the v3 API; etcd 3.4 and 3.5 both serve /v3/). Pure: response
// bodies → facts. Numbers are JSON strings (int64/uint64); member ids decimal. Real bodies from etcd 3.4.23:
//   POST /v3/maintenance/status {} →
//   {"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"},
//    "version":"3.4.23","dbSize":"20480","leader":"13668033151171901709","raftIndex":"6","raftTerm":"2",
//    "raftAppliedIndex":"6","dbSizeInUse":"16384"}
//   POST /v3/maintenance/alarm {"action":"GET"} → {} when no alarm, else {"alarms":[{"memberID":"…","alarm":"NOSPACE"}]}
//   POST /v3/cluster/member/list {} → {"header":{…},"members":[{"ID":"…","name":"default","peerURLs":[…],"clientURLs":[…]}]}

export interface GatewayStatus {
  clusterId: string | null;
  memberId: string | null;
  revision: number | null;
  version: string | null;
  dbSizeBytes: number | null;
  dbSizeInUseBytes: number | null;
  /** 3.6+ prints dbSizeQuota. */
  quotaBytes: number | null;
  isLeader: boolean | null;
  errors: string[];
}

export interface GatewayMember {
  memberId: string;
  name: string;
  clientUrls: string[];
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** int64/uint64 text as a number when it is exact, else null. */
function int(v: unknown): number | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** Decimal uint64 text → hex as etcd prints ids. */
export function decimalIdToHex(v: unknown): string | null {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) return null;
  const b = BigInt(v);
  return b < 2n ** 64n ? b.toString(16) : null;
}

function parse(body: string): Record<string, unknown> | string {
  try {
    return obj(JSON.parse(body)) ?? 'not a JSON object';
  } catch {
    return `not JSON: ${body.slice(0, 80)}`;
  }
}

export function parseGatewayStatus(body: string): GatewayStatus | { error: string } {
  const v = parse(body);
  if (typeof v === 'string') return { error: v };
  if (typeof v['error'] === 'string' || typeof v['message'] === 'string') return { error: String(v['error'] ?? v['message']) };
  const h = obj(v['header']) ?? {};
  const memberId = decimalIdToHex(h['member_id']);
  const leader = decimalIdToHex(v['leader']);
  return {
    clusterId: decimalIdToHex(h['cluster_id']), memberId, revision: int(h['revision']),
    version: typeof v['version'] === 'string' ? v['version'] : null,
    dbSizeBytes: int(v['dbSize']), dbSizeInUseBytes: int(v['dbSizeInUse']), quotaBytes: int(v['dbSizeQuota']) || null,
    isLeader: memberId !== null && leader !== null ? memberId === leader : null,
    errors: Array.isArray(v['errors']) ? (v['errors'] as unknown[]).filter((e): e is string => typeof e === 'string') : [],
  };
}

/** Alarm names held by any member: `NOSPACE`, `CORRUPT`. */
export function parseGatewayAlarms(body: string): { alarms: { memberId: string | null; alarm: string }[] } | { error: string } {
  const v = parse(body);
  if (typeof v === 'string') return { error: v };
  const list = Array.isArray(v['alarms']) ? (v['alarms'] as unknown[]) : [];
  return {
    alarms: list.map(obj).filter((a): a is Record<string, unknown> => a !== null)
      .map((a) => ({ memberId: decimalIdToHex(a['memberID']), alarm: typeof a['alarm'] === 'string' ? a['alarm'] : 'NONE' }))
      .filter((a) => a.alarm !== 'NONE'),
  };
}

export function parseGatewayMembers(body: string): { members: GatewayMember[] } | { error: string } {
  const v = parse(body);
  if (typeof v === 'string') return { error: v };
  const list = Array.isArray(v['members']) ? (v['members'] as unknown[]) : [];
  const members: GatewayMember[] = [];
  for (const m of list.map(obj)) {
    const id = m && decimalIdToHex(m['ID']);
    if (!m || !id) continue;
    const urls = Array.isArray(m['clientURLs']) ? (m['clientURLs'] as unknown[]).filter((u): u is string => typeof u === 'string') : [];
    members.push({ memberId: id, name: typeof m['name'] === 'string' ? m['name'] : '', clientUrls: urls });
  }
  return { members };
}
