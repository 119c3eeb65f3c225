// The inputs the fuzzer starts from: real captures in test/fixtures/ and samples/ (each directory's
// README names the program and command that produced them), grouped by the input kind we read.
// A kind is a set of path patterns; every kind must match at least one file, so a fixture that moves
// is noticed here (seedKinds throws) rather than silently fuzzing less.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** wal: a WAL segment; snap: a raft .snap; data-dir: a member data dir (its `member/` tree, one file mutated). */
export type SeedShape = 'text' | 'bbolt' | 'bbolt-gz' | 'wal' | 'snap' | 'data-dir';

export interface SeedKind {
  /** The name counts are reported under. */
  name: string;
  shape: SeedShape;
  /** The `ingest --kind` this input is, for the share of cases that force the parser past detection
   * (see forcedKindOf: a Patroni log inside an envelope is still a Patroni log). */
  ingestKind: 'patroni-log' | 'etcd-log' | 'etcdctl' | 'transcript' | 'etcd-snapshot' | 'patroni-config' | null;
  /** Paths relative to the repository root, sorted (so a seed number means the same file everywhere);
   * for shape data-dir, the `member` directories. */
  files: string[];
}

interface KindRule {
  name: string;
  shape: SeedShape;
  ingestKind: SeedKind['ingestKind'];
  match: RegExp;
  /** For shape data-dir: the directory a matching file stands for. */
  dirOf?: (file: string) => string;
}

const RULES: KindRule[] = [
  { name: 'etcd-zap-3.4', shape: 'text', ingestKind: 'etcd-log', match: /etcd-3\.4\/etcd-zap\.log$|etcd-3\.4-capacity\/[a-z]+\/etcd\.log$/ },
  { name: 'etcd-capnslog-3.4', shape: 'text', ingestKind: 'etcd-log', match: /etcd-3\.4\/etcd-capnslog\.log$/ },
  { name: 'etcd-zap-3.5', shape: 'text', ingestKind: 'etcd-log', match: /etcd-3\.5\.(16|30)\/etcd[12]\.log$|etcd-3\.5-derived\/.*\.log$|patroni-nospace\/etcd\/etcd\d\.log$|patroni-4\.\d\.\d\/[a-z]+\/etcd1\.log$/ },
  { name: 'etcd-zap-3.6', shape: 'text', ingestKind: 'etcd-log', match: /etcd-3\.6-derived\/.*\.log$/ },
  { name: 'etcd-k3s-logrus', shape: 'text', ingestKind: 'etcd-log', match: /k3s-derived\/k3s-(9251|stdout-nospace)\.log$/ },
  { name: 'patroni-default', shape: 'text', ingestKind: 'patroni-log', match: /patroni-3\.0\.2\/pg\d\/patroni\.log$|patroni-4\.\d\.\d\/default\/pg\d\/patroni\.log$|patroni\/pg\d\/stderr\.log$/ },
  { name: 'patroni-json', shape: 'text', ingestKind: 'patroni-log', match: /patroni-4\.\d\.\d\/json\/pg\d\/patroni\.log$|patroni-derived\/json\/.*\.jsonl$|json-default-keys\.jsonl$/ },
  { name: 'patroni-custom', shape: 'text', ingestKind: 'patroni-log', match: /patroni-4\.\d\.\d\/custom\/pg\d\/patroni\.log$|patroni-derived\/(formats|collapsed)\/.*\.(log|txt)$/ },
  { name: 'patroni-yaml', shape: 'text', ingestKind: 'patroni-config', match: /\.yml$/ },
  { name: 'etcdctl-table', shape: 'text', ingestKind: 'etcdctl', match: /\/(?!etcdutl)[^/]*\.table\.txt$/ },
  { name: 'etcdctl-json', shape: 'text', ingestKind: 'etcdctl', match: /\/(?!etcdutl)[^/]*\.json\.txt$/ },
  { name: 'etcdctl-fields', shape: 'text', ingestKind: 'etcdctl', match: /\/(?!etcdutl)[^/]*\.fields\.txt$/ },
  { name: 'etcdctl-simple', shape: 'text', ingestKind: 'etcdctl', match: /\/(?!etcdutl)[^/]*\.simple\.txt$|recovery-\d\d-(compact|defrag-etcd\d|alarm-disarm)\.txt$|snapshot-save[^/]*\.txt$/ },
  { name: 'etcdutl', shape: 'text', ingestKind: 'etcdctl', match: /\/etcdutl-[^/]*\.txt$/ },
  { name: 'etcdctl-samples', shape: 'text', ingestKind: 'etcdctl', match: /\/(status|alarm|health)-samples[^/]*\.(log|txt)$/ },
  { name: 'transcript', shape: 'text', ingestKind: 'transcript', match: /transcript\.txt$|transcripts-derived\/.*\.txt$|seed\/etcd-no-space-incident\.txt$|k3s-9251-paste\.txt$/ },
  { name: 'env-cri', shape: 'text', ingestKind: 'etcd-log', match: /envelope-derived\/cri\// },
  { name: 'env-docker-json', shape: 'text', ingestKind: 'etcd-log', match: /envelope-derived\/docker\// },
  { name: 'env-journald-json', shape: 'text', ingestKind: 'etcd-log', match: /\.journal\.json(-pretty)?$/ },
  { name: 'env-journald-export', shape: 'text', ingestKind: 'etcd-log', match: /\.journal\.export$/ },
  { name: 'env-journald-text', shape: 'text', ingestKind: 'etcd-log', match: /journal\.(cat|short[^/]*)\.log$|etcd-3\.4-journald\/.*\.log$|patroni-derived\/journald\/.*\.txt$/ },
  { name: 'env-syslog', shape: 'text', ingestKind: 'etcd-log', match: /envelope-derived\/rsyslog\/|k3s-syslog-defrag\.log$/ },
  { name: 'env-k8s', shape: 'text', ingestKind: 'etcd-log', match: /envelope-derived\/(kubectl|shipper)\// },
  { name: 'bbolt-db', shape: 'bbolt', ingestKind: 'etcd-snapshot', match: /snapshot-[a-z]+\.db$/ },
  { name: 'bbolt-gz', shape: 'bbolt-gz', ingestKind: 'etcd-snapshot', match: /snapshot\.bin\.gz$|snapshot-[a-z]+\.db$/ },
  // Issue 16: a member's data dir, read by etcd's file names (there is no --kind for them).
  { name: 'etcd-wal', shape: 'wal', ingestKind: null, match: /data-dir-[^/]+\/member\/wal\/[0-9a-f]{16}-[0-9a-f]{16}\.wal(\.gz)?$/ },
  { name: 'raft-snap', shape: 'snap', ingestKind: null, match: /data-dir-[^/]+\/member\/snap\/[0-9a-f]{16}-[0-9a-f]{16}\.snap$/ },
  { name: 'member-data-dir', shape: 'data-dir', ingestKind: null, match: /data-dir-[^/]+\/member\/wal\/[^/]+$/, dirOf: (f) => f.replace(/\/wal\/[^/]+$/, '') },
  // Issue 15: a saved Prometheus /metrics page of one member.
  { name: 'prometheus-metrics', shape: 'text', ingestKind: null, match: /live-[^/]+\/metrics[^/]*\.txt$/ },
];

/** Real captures larger than this are cut to a window of whole lines (bbolt files are used whole). */
export const MAX_TEXT_SEED_BYTES = 256 * 1024;

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile() && !/README\.md$|INCIDENT\.md$/.test(name)) out.push(p);
  }
}

export function seedKinds(root: string): SeedKind[] {
  const all: string[] = [];
  walk(join(root, 'test', 'fixtures'), all);
  walk(join(root, 'samples'), all);
  const rel = all.map((p) => relative(root, p).split('\\').join('/')).sort();
  return RULES.map((rule) => {
    const matched = rel.filter((p) => rule.match.test(p) && statSync(join(root, p)).size > 0);
    const files = rule.dirOf ? [...new Set(matched.map(rule.dirOf))].sort() : matched;
    if (files.length === 0) throw new Error(`bench/fuzz/seeds.ts: no seed file for input kind ${rule.name} (pattern ${rule.match})`);
    return { name: rule.name, shape: rule.shape, ingestKind: rule.ingestKind, files };
  });
}

/** The --kind to force for one seed file of a kind. */
export function forcedKindOf(kind: SeedKind, file: string): SeedKind['ingestKind'] {
  if (kind.ingestKind === 'etcd-log' && /patroni|\/pg\d/.test(file)) return 'patroni-log';
  return kind.ingestKind;
}
