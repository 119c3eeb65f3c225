// Patroni's YAML configuration (patroni.yml, postgres0.yml): the settings that explain a NOSPACE
// incident's write rate and its failure timing. Pure: text in, facts out; a config is small, so it
// is read whole.
//
//   scope: pg_demo                  the cluster; keys live under /<namespace>/<scope>/
//   namespace: /service             default `/service/` (patroni/dcs/__init__.py: config.get('namespace', 'service'))
//   etcd3: {hosts: 127.0.0.1:2379}  `etcd3:` (v3 API, quota-limited) or `etcd:` (v2 API)
//   bootstrap: {dcs: {ttl: 30, loop_wait: 10, retry_timeout: 10}}
//
// `bootstrap.dcs` is what a new cluster writes to its /config key; Patroni also takes loop_wait,
// ttl and retry_timeout from the top level when the dynamic configuration lacks them
// (config.py `_build_effective_configuration`), so the top level is the fallback here.
import { isMap, isScalar, parseDocument, type Document } from 'yaml';

export interface PatroniConfig {
  scope: string | null;
  /** As written, `/service/` when absent. */
  namespace: string;
  name: string | null;
  dcs: 'etcd' | 'etcd3' | null;
  /** `host:port` or URLs, in the order given; `srv:<name>` for SRV discovery. */
  hosts: string[];
  loopWait: number | null;
  ttl: number | null;
  retryTimeout: number | null;
  /** `/<namespace>/<scope>/` with repeated slashes collapsed, as Patroni builds it; null without a scope. */
  keyPrefix: string | null;
  /** The `log:` section, which says how Patroni's log lines look. */
  log: { type: string | null; format: string | null; dateformat: string | null; dir: string | null; level: string | null } | null;
}

/** One setting with the line (1-based) it was read from, for the store. */
export interface PatroniSetting {
  name: string;
  value: string;
  line: number | null;
}

const TOP_KEYS = new Set([
  'scope', 'namespace', 'name', 'restapi', 'ctl', 'etcd', 'etcd3', 'consul', 'zookeeper', 'exhibitor', 'kubernetes',
  'raft', 'bootstrap', 'postgresql', 'log', 'tags', 'watchdog', 'citus', 'standby_cluster', 'loop_wait', 'ttl', 'retry_timeout',
]);

/** A Patroni config, from its text or first lines: top-level Patroni keys, `scope:` or `restapi:` + `postgresql:` among them. */
export function looksLikePatroniConfig(text: string | readonly string[]): boolean {
  const lines = typeof text === 'string' ? text.split('\n', 400) : text.slice(0, 400);
  const seen = new Set<string>();
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#') || line === '---' || /^\s/.test(line)) continue;
    const m = /^([A-Za-z_][\w]*):(?:\s|$)/.exec(line);
    if (!m) return false; // a top-level line that is not a key: not YAML of this shape
    if (TOP_KEYS.has(m[1]!)) seen.add(m[1]!);
  }
  const named = seen.has('scope') || (seen.has('restapi') && seen.has('postgresql'));
  return named && seen.size >= 3;
}

export function parsePatroniConfig(text: string): PatroniConfig | null {
  const doc = readDocument(text);
  if (!doc) return null;
  const root = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
  const dcsKind = isObject(root['etcd3']) ? 'etcd3' : isObject(root['etcd']) ? 'etcd' : null;
  if (str(root['scope']) === null && dcsKind === null && !isObject(root['bootstrap'])) return null;
  const scope = str(root['scope']);
  const namespace = str(root['namespace']) ?? '/service/';
  const dynamic = at(root, ['bootstrap', 'dcs']);
  const pick = (key: string): number | null => num(isObject(dynamic) ? dynamic[key] : undefined) ?? num(root[key]);
  const log = isObject(root['log']) ? root['log'] : null;
  return {
    scope, namespace, name: str(root['name']), dcs: dcsKind,
    hosts: dcsKind ? hostsOf(root[dcsKind] as Record<string, unknown>) : [],
    loopWait: pick('loop_wait'), ttl: pick('ttl'), retryTimeout: pick('retry_timeout'),
    keyPrefix: scope === null ? null : `/${namespace}/${scope}/`.replace(/\/+/g, '/'),
    log: log && {
      type: str(log['type']), format: str(log['format']), dateformat: str(log['dateformat']),
      dir: str(log['dir']), level: str(log['level']),
    },
  };
}

/** The settings as rows (name, value, line), in a fixed order; only those present in the file. */
export function patroniConfigSettings(text: string): PatroniSetting[] {
  const doc = readDocument(text);
  const cfg = parsePatroniConfig(text);
  if (!doc || !cfg) return [];
  // The line of the key itself (`etcd:`), not of its value, which may start after comments.
  const lineOf = (path: string[]): number | null => {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) return null;
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === path.at(-1));
    const off = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    return off === undefined ? null : text.slice(0, off).split('\n').length;
  };
  const rows: PatroniSetting[] = [];
  const add = (name: string, value: string | number | null, ...paths: string[][]): void => {
    if (value === null) return;
    const path = paths.find((p) => doc.hasIn(p));
    rows.push({ name, value: String(value), line: path ? lineOf(path) : null });
  };
  add('scope', cfg.scope, ['scope']);
  add('namespace', cfg.namespace, ['namespace']);
  add('name', cfg.name, ['name']);
  if (cfg.dcs) add('dcs', cfg.dcs, [cfg.dcs]);
  if (cfg.hosts.length > 0 && cfg.dcs) add('hosts', cfg.hosts.join(','), ...['hosts', 'host', 'url', 'proxy', 'srv'].map((k) => [cfg.dcs!, k]));
  add('loop_wait', cfg.loopWait, ['bootstrap', 'dcs', 'loop_wait'], ['loop_wait']);
  add('ttl', cfg.ttl, ['bootstrap', 'dcs', 'ttl'], ['ttl']);
  add('retry_timeout', cfg.retryTimeout, ['bootstrap', 'dcs', 'retry_timeout'], ['retry_timeout']);
  add('key_prefix', cfg.keyPrefix, ['scope']);
  for (const k of ['type', 'format', 'dateformat', 'dir', 'level'] as const) add(`log.${k}`, cfg.log?.[k] ?? null, ['log', k]);
  return rows;
}

function readDocument(text: string): Document | null {
  try {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0 || !isMap(doc.contents)) return null;
    return doc;
  } catch {
    return null;
  }
}

// `hosts` is a list or a comma-separated string; `host` one endpoint; `url`/`proxy` a URL; `srv` DNS SRV.
function hostsOf(section: Record<string, unknown>): string[] {
  const h = section['hosts'];
  if (Array.isArray(h)) return h.map(String).map((s) => s.trim()).filter(Boolean);
  if (typeof h === 'string') return h.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of ['host', 'url', 'proxy']) if (typeof section[k] === 'string') return [section[k] as string];
  if (typeof section['srv'] === 'string') return [`srv:${section['srv']}`];
  return [];
}

function at(o: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = o;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  return v;
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};
