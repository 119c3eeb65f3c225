// The recovery runbook for one cluster: the exact commands, in order, every value from the data shell-quoted.
import type { Incident, Recommendation } from './types.js';
import type { Loaded } from './load.js';

/**
 * A value placed into a shell command: left bare when it holds only characters no shell acts on
 * (every plausible endpoint: `http://10.8.0.17:2379`), else POSIX single quotes with `'` as `'\''`.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// An etcd client endpoint as etcd and etcdctl write them: a URL (http, https, unix, unixs) or host:port,
// host a DNS name, an IPv4 address or a bracketed IPv6 address.
const ENDPOINT = /^(?:(?:https?|unixs?):\/\/)?(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?\/?$/;

export function isPlausibleEndpoint(value: string): boolean {
  return ENDPOINT.test(value);
}

export function runbook(d: Loaded, incident: Incident): Recommendation {
  // One endpoint per member (the latest seen), followers first and the leader last. An endpoint is
  // data (a log or a status line names it): one that is not a URL or host:port is left out with a note,
  // and every value placed into a command is shell-quoted.
  const latest = new Map<string, { endpoint: string; leader: boolean }>();
  const refused = new Set<string>();
  const samples = d.status.length > 0 ? d.status : d.untimedStatus;
  for (const s of samples) {
    if (isPlausibleEndpoint(s.endpoint)) latest.set(s.member_id ?? s.endpoint, { endpoint: s.endpoint, leader: s.is_leader === 1 });
    else refused.add(s.endpoint);
  }
  const members = [...latest.values()].sort((a, b) => Number(a.leader) - Number(b.leader) || a.endpoint.localeCompare(b.endpoint));
  const lastRev = [...samples].reverse().find((s) => s.revision !== null)?.revision ?? incident.revisionAtNospace;
  const eps = members.map((m) => shellQuote(m.endpoint));
  // Without a known endpoint the commands stop at once (${X:?}) instead of running with a placeholder.
  const all = eps.length ? shellQuote(members.map((m) => m.endpoint).join(',')) : '"${ENDPOINTS:?set ENDPOINTS to every member, comma-separated}"';
  const one = eps[0] ?? '"${ENDPOINT:?set ENDPOINT to one member}"';
  const rev = lastRev !== null ? String(lastRev) : '$REV';
  const commands = [
    `etcdctl --endpoints=${all} snapshot save backup-before-recovery.db   # run against ONE endpoint: --endpoints=${one}`,
    `REV=$(etcdctl --endpoints=${one} endpoint status -w json | grep -o '"revision":[0-9]*' | grep -o '[0-9]*')   # last seen: ${rev}`,
    `etcdctl --endpoints=${one} compact "$REV"`,
    ...(members.length
      ? members.map((m) => `etcdctl --endpoints=${shellQuote(m.endpoint)} defrag${m.leader ? '   # the leader, last' : ''}`)
      : ['etcdctl --endpoints="${ENDPOINT:?set ENDPOINT to one member}" defrag   # each member, one at a time']),
    `etcdctl --endpoints=${all} alarm disarm`,
    `etcdctl --endpoints=${all} alarm list          # expect no output`,
    `etcdctl --endpoints=${all} endpoint status -w table   # DB SIZE back to kB/MB, ERRORS empty`,
  ];
  const left = [...refused].sort().slice(0, 5).map(shellQuote).join(', ');
  return {
    id: 'runbook',
    title: 'Recovery runbook for this cluster',
    etcdFlags: [],
    configYaml: null,
    commands,
    rationale:
      'Compaction alone does not lower the DB size the quota checks; defragment every member (one at a time, it blocks that member), ' +
      'then disarm: the alarm never clears itself and persists across restarts. If a member is still at the quota, the next write raises it again. ' +
      (lastRev !== null ? `The revision ${rev} is the newest one in the data; read it again before compacting.` : '') +
      (refused.size > 0
        ? ` Left out of the commands: ${refused.size} endpoint value${refused.size === 1 ? '' : 's'} from the data that ${refused.size === 1 ? 'is' : 'are'} not a URL or host:port (${left}${refused.size > 5 ? ', …' : ''}).`
        : ''),
  };
}
