// Key groups. Patroni's layout `<namespace>/<scope>/<name>` is recognised by its key names; other keys
// collapse their varying last segment (`/registry/pods/ns/x` → `/registry/pods/*`).

const PATRONI_RE =
  /^(.*\/[^/]+)\/(members\/[^/]+|leader|status|optime\/leader|config|history|sync|failover|initialize|failsafe)$/;

export interface KeyGroup {
  group: string;
  rule: string;
}

export function groupOfKey(key: string): KeyGroup {
  const m = PATRONI_RE.exec(key);
  if (m) {
    const base = m[1]!;
    const name = m[2]!;
    if (name.startsWith('members/')) return { group: `${base}/members/*`, rule: 'patroni members key' };
    return { group: `${base}/${name}`, rule: `patroni ${name} key` };
  }
  if (key.startsWith('/registry/')) {
    const parts = key.split('/');
    return { group: `/registry/${parts[2] ?? ''}/*`, rule: 'kubernetes resource' };
  }
  const slash = key.lastIndexOf('/');
  if (slash > 0) return { group: `${key.slice(0, slash)}/*`, rule: 'last segment collapsed' };
  return { group: key, rule: 'single key' };
}
