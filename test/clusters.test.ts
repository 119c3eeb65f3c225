// Clusters apart (issue 12): "Two clusters ingested into one store give two separate analyses and runbooks."
// Two real captures with different etcd clusters: test/fixtures/etcd-3.5.16 (3 members, etcd 3.5.16) and
// test/fixtures/etcd-3.4 (2 members, etcd 3.4.23), both by scripts/capture/etcd-fixtures.sh. The cluster ids
// and client endpoints each cluster owns are read in the test from the captures' own etcdctl JSON, never typed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers/cli.js';

interface Capture { dir: string; files: string[]; clusterId: string; endpoints: Set<string> }

/** A capture's cluster id (hex, as etcd prints it) and its members' client endpoints, from its own etcdctl JSON. */
function capture(version: string, names: string[]): Capture {
  const dir = join(FIXTURES, version);
  const text = (f: string): string => readFileSync(join(dir, f), 'utf8');
  // lossless: the ids are uint64 (above 2^53), so they are taken from the text, not a JSON.parse of it.
  const clusterDecimal = /"cluster_id":(\d+)/.exec(text('member-list.json.txt'))![1]!;
  const members = JSON.parse(text('member-list.json.txt').replace(/"ID":(\d+)/g, '"ID":"$1"')) as { members: { clientURLs: string[] }[] };
  const endpoints = new Set(members.members.flatMap((m) => m.clientURLs).map((u) => u.replace(/^https?:\/\//, '')));
  return { dir, files: names.map((n) => relative(ROOT, join(dir, n))), clusterId: BigInt(clusterDecimal).toString(16), endpoints };
}

const NEW = capture('etcd-3.5.16', ['etcd1.log', 'etcd2.log', 'status-samples.log', 'member-list.json.txt', 'endpoint-health.json.txt',
  'recovery-04-defrag-etcd1.txt', 'snapshot-nospace.db', 'snapshot-recovered.db']);
const OLD = capture('etcd-3.4', ['etcd-zap.log', 'status-samples.log', 'member-list.json.txt', 'alarm-list.json.txt', 'snapshot-nospace.db']);

function ingest(db: string, files: string[], extra: string[] = []): void {
  const r = runCli(['ingest', '--db', db, ...extra, ...files]);
  assert.equal(r.code, 0, r.stderr);
}

function json<T>(args: string[]): T {
  const r = runCli([...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

interface Report { schemaVersion: number; cluster: { name: string; clusterId: string | null } | null; recommendations: { id: string; commands?: string[] }[] }
interface Multi { schemaVersion: number; clusters: Report[]; unassigned: string[] }
interface Sources { sources: { path: string; kind: string; cluster: string | null; clusterBasis: string | null }[] }

const FIXTURE_PATH = /test\/fixtures\/[^"\s:;,)]+/g;
const HOST_PORT = /\b(?:\d{1,3}\.){3}\d{1,3}:\d{1,5}\b/g;

/** Everything an analysis cites, minus what is volatile between two stores (ingest times). */
function comparable(r: unknown): string {
  return JSON.stringify(r, (k, v: unknown) => (k === 'ingestedAt' ? undefined : v));
}

test('two clusters in one store: two analyses, each citing only its own files, each runbook only its own endpoints', () => {
  const t = tempDir();
  try {
    assert.notEqual(NEW.clusterId, OLD.clusterId, 'the two captures must be two clusters');
    const db = join(t.dir, 'both.db');
    ingest(db, [...NEW.files, ...OLD.files]);

    const sources = json<Sources>(['sources', '--db', db]).sources;
    const clusterOfDir = (p: string): string => (p.startsWith(relative(ROOT, NEW.dir)) ? NEW.clusterId : OLD.clusterId);
    for (const s of sources) assert.equal(s.cluster, clusterOfDir(s.path), `${s.path} (${s.clusterBasis})`);
    // The health check and the defrag output name no cluster id: their endpoints tie them to their cluster.
    assert.equal(sources.find((s) => s.path.endsWith('endpoint-health.json.txt'))?.clusterBasis, 'endpoint');
    assert.equal(sources.find((s) => s.path.endsWith('recovery-04-defrag-etcd1.txt'))?.clusterBasis, 'endpoint');

    const multi = json<Multi>(['analyze', '--db', db]);
    assert.equal(multi.schemaVersion, 3);
    assert.deepEqual(multi.clusters.map((c) => c.cluster?.name).sort(), [NEW.clusterId, OLD.clusterId].sort());
    assert.deepEqual(multi.unassigned, []);
    for (const c of multi.clusters) {
      const own = c.cluster!.name === NEW.clusterId ? NEW : OLD;
      const other = own === NEW ? OLD : NEW;
      const cited = new Set(comparable(c).match(FIXTURE_PATH) ?? []);
      assert.ok(cited.size > 0, 'the analysis cites its files');
      for (const p of cited) assert.ok(p.startsWith(relative(ROOT, own.dir)), `${c.cluster!.name} cites ${p}`);
      const runbook = c.recommendations.find((x) => x.id === 'runbook');
      const endpoints = new Set((runbook?.commands ?? []).join('\n').match(HOST_PORT) ?? []);
      assert.ok(endpoints.size > 0, 'the runbook names endpoints');
      for (const e of endpoints) {
        assert.ok(own.endpoints.has(e), `${c.cluster!.name}'s runbook names ${e}, not one of its members`);
        assert.ok(!other.endpoints.has(e), `${c.cluster!.name}'s runbook names ${e} of the other cluster`);
      }
    }

    // Churn from the snapshot holding the most history, not the newest: the 3.5.16 capture's snapshot after
    // recovery (compacted, newer revision) holds fewer revision rows than the one taken at NOSPACE.
    const newReport = multi.clusters.find((c) => c.cluster!.name === NEW.clusterId) as Report & {
      snapshotFiles: { path: string; revision: number; keyRevisions: number }[]; churn: { evidence: { detail: string }[] };
    };
    const files = [...newReport.snapshotFiles].sort((a, b) => b.keyRevisions - a.keyRevisions);
    assert.equal(files.length, 2);
    assert.ok(files[0]!.revision < files[1]!.revision, 'the fuller snapshot is the older one');
    const detail = newReport.churn.evidence[0]!.detail;
    assert.ok(detail.includes(`read from ${files[0]!.path}`), detail);
    assert.ok(detail.includes(`of 2 snapshots, the one holding the most history (${files[1]!.path}: ${files[1]!.keyRevisions} rows`), detail);

    // The terminal output heads each cluster's analysis by its name.
    const text = runCli(['recommend', '--db', db]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal((text.stdout.match(/^=+ CLUSTER /gm) ?? []).length, 2);

    // --cluster selects one: the single-cluster shape, equal to a store that holds that cluster alone.
    const alone = join(t.dir, 'alone.db');
    ingest(alone, NEW.files);
    for (const command of ['analyze', 'timeline', 'churn', 'project', 'recommend']) {
      const selected = json<Report>([command, '--db', db, '--cluster', NEW.clusterId]);
      const single = json<Report>([command, '--db', alone]);
      assert.equal(selected.cluster?.name, NEW.clusterId);
      assert.equal(comparable(selected), comparable(single), `${command} --cluster differs from the store of that cluster alone`);
    }
    const md = runCli(['report', '--db', db, '--cluster', OLD.clusterId]);
    assert.equal(md.code, 0, md.stderr);
    assert.ok(!md.stdout.includes(relative(ROOT, NEW.dir)), 'report --cluster cites the other cluster');
    const both = runCli(['report', '--db', db, '--format', 'md']);
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.stdout, new RegExp(`^# Cluster ${NEW.clusterId}\\b`, 'm'));
    assert.match(both.stdout, new RegExp(`^# Cluster ${OLD.clusterId}\\b`, 'm'));

    const html = runCli(['report', '--db', db, '--format', 'html']);
    assert.equal(html.code, 0, html.stderr);
    assert.equal((html.stdout.match(/<body>/g) ?? []).length, 1, 'one HTML document');
    const sections = html.stdout.split('<section class="cluster">').slice(1);
    assert.equal(sections.length, 2);
    for (const sec of sections) {
      const own = sec.includes(`Cluster ${NEW.clusterId}`) ? NEW : OLD;
      const other = own === NEW ? OLD : NEW;
      assert.ok(sec.includes(relative(ROOT, own.dir)) && !sec.includes(relative(ROOT, other.dir)), 'an HTML section cites the other cluster');
    }

    // A source nothing ties to either cluster (a `snapshot status` table names no cluster, member or
    // endpoint) is left out and said so, by ingest and by the analyses.
    const loose = relative(ROOT, join(NEW.dir, 'snapshot-status-nospace.table.txt'));
    const looseRun = runCli(['ingest', '--db', db, loose]);
    assert.equal(looseRun.code, 0, looseRun.stderr);
    assert.match(looseRun.stdout, /^unassigned: 1 source /m);
    assert.deepEqual(json<Multi>(['analyze', '--db', db]).unassigned, [loose]);
    assert.match(runCli(['analyze', '--db', db]).stderr, /1 source tied to no cluster, left out/);

    const unknown = runCli(['analyze', '--db', db, '--cluster', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--cluster nope: no such cluster/);
  } finally {
    t.cleanup();
  }
});

test('ingest --cluster NAME overrides the cluster id in the data and names the cluster', () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'named.db');
    ingest(db, NEW.files);
    ingest(db, OLD.files, ['--cluster', 'staging']);
    // A file that carries the 3.5.16 cluster's id, put in "staging" by the user.
    const status = relative(ROOT, join(NEW.dir, 'endpoint-status.json.txt'));
    ingest(db, [status], ['--cluster', 'staging']);
    const sources = json<Sources>(['sources', '--db', db]).sources;
    for (const s of sources) {
      const expected = OLD.files.includes(s.path) || s.path === status ? 'staging' : NEW.clusterId;
      assert.equal(s.cluster, expected, s.path);
      if (expected === 'staging') assert.equal(s.clusterBasis, 'option');
    }
    // Stored before: --cluster does not move it, and ingest says so.
    const again = runCli(['ingest', '--db', db, '--cluster', 'elsewhere', NEW.files[0]!]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /--cluster elsewhere not applied to .*etcd1\.log: stored before/);
    const multi = json<Multi>(['analyze', '--db', db]);
    const staging = multi.clusters.find((c) => c.cluster?.name === 'staging');
    assert.equal(staging?.cluster?.clusterId, OLD.clusterId, 'the named cluster keeps the id its sources carry');
    assert.ok(multi.clusters.some((c) => c.cluster?.name === NEW.clusterId));
  } finally {
    t.cleanup();
  }
});

test('a pasted session of two clusters: each status sample goes to its own cluster', () => {
  const t = tempDir();
  try {
    // Derived: the two captures' real `endpoint status -w json` outputs pasted one after the other in one file.
    const paste = join(t.dir, 'two-clusters.txt');
    writeFileSync(paste, ['$ etcdctl endpoint status --cluster -w json', readFileSync(join(NEW.dir, 'endpoint-status.json.txt'), 'utf8').trim(),
      '$ etcdctl endpoint status --cluster -w json', readFileSync(join(OLD.dir, 'endpoint-status.json.txt'), 'utf8').trim(), ''].join('\n'));
    const db = join(t.dir, 'paste.db');
    ingest(db, [paste], ['--at', '2026-11-30T00:00:00Z']);
    const rows = json<{ rows: { endpoint: string; name: string }[] } | { endpoint: string; name: string }[]>(['query', '--db', db,
      'SELECT s.endpoint, c.name FROM status_samples s JOIN clusters c ON c.id = s.cluster ORDER BY s.id']);
    const list = Array.isArray(rows) ? rows : rows.rows;
    assert.ok(list.length >= 4, JSON.stringify(list));
    for (const r of list) {
      const ep = r.endpoint.replace(/^https?:\/\//, '');
      assert.equal(r.name, NEW.endpoints.has(ep) ? NEW.clusterId : OLD.clusterId, ep);
    }
    const multi = json<Multi>(['analyze', '--db', db]);
    assert.equal(multi.clusters.length, 2);
    for (const c of multi.clusters) {
      const own = c.cluster!.name === NEW.clusterId ? NEW : OLD;
      const endpoints = new Set((c.recommendations.find((x) => x.id === 'runbook')?.commands ?? []).join('\n').match(HOST_PORT) ?? []);
      assert.ok(endpoints.size > 0);
      for (const e of endpoints) assert.ok(own.endpoints.has(e), `${c.cluster!.name}'s runbook names ${e}`);
    }
  } finally {
    t.cleanup();
  }
});

test('two Patroni clusters on their own etcd: Patroni logs and configurations go with their etcd, by the endpoints they name', () => {
  // samples/patroni-nospace (Patroni 3.0.2, etcd 3.4.23) and test/fixtures/patroni-4.1.5/default (Patroni 4.1.5),
  // both real captures (scripts/capture/). Patroni's logs name no cluster id: their YAML's `hosts:` and
  // their `Selected new etcd server …` lines name the etcd endpoints that the status samples tie to a cluster.
  const dirs = [
    { dir: 'samples/patroni-nospace', status: 'samples/patroni-nospace/samples/endpoint-status.json.txt' },
    { dir: 'test/fixtures/patroni-4.1.5/default', status: 'test/fixtures/patroni-4.1.5/default/endpoint-status-samples.json.txt' },
  ].map((d) => ({ ...d, clusterId: BigInt(/"cluster_id":(\d+)/.exec(readFileSync(join(ROOT, d.status), 'utf8'))![1]!).toString(16) }));
  assert.notEqual(dirs[0]!.clusterId, dirs[1]!.clusterId);
  const t = tempDir();
  try {
    const db = join(t.dir, 'patroni.db');
    ingest(db, dirs.map((d) => d.dir));
    const sources = json<Sources>(['sources', '--db', db]).sources;
    const patroni = sources.filter((s) => s.kind === 'patroni-log' || s.kind === 'patroni-config');
    assert.equal(patroni.length, 12, 'three nodes, a log and a YAML each, per capture');
    for (const s of patroni) {
      const own = dirs.find((d) => s.path.startsWith(`${d.dir}/`))!;
      assert.equal(s.cluster, own.clusterId, `${s.path} (${s.clusterBasis})`);
      assert.equal(s.clusterBasis, 'endpoint');
    }
    const multi = json<Multi>(['analyze', '--db', db]);
    assert.equal(multi.clusters.length, 2);
    for (const c of multi.clusters) {
      const own = dirs.find((d) => d.clusterId === c.cluster!.name)!;
      const cited = new Set(comparable(c).match(/(?:samples|test\/fixtures)\/[^"\s:;,)]+/g) ?? []);
      const logs = patroni.filter((s) => s.kind === 'patroni-log' && s.path.startsWith(`${own.dir}/`)).map((s) => s.path);
      assert.ok([...cited].some((p) => logs.includes(p)), `${own.dir}: the analysis cites its Patroni logs`);
      for (const p of cited) assert.ok(p.startsWith(`${own.dir}/`), `${c.cluster!.name} cites ${p}`);
    }
  } finally {
    t.cleanup();
  }
});

test('cluster names from the data (Patroni scopes) reach no terminal, Markdown or HTML unescaped', () => {
  // Derived: the real Patroni YAML of samples/patroni-nospace (pg1) with only its scope replaced by hostile
  // text; the second copy also points at other etcd hosts. No etcd cluster id in either: the scopes name the clusters.
  const t = tempDir();
  try {
    const yml = readFileSync(join(ROOT, 'samples/patroni-nospace/patroni/pg1/patroni.yml'), 'utf8');
    assert.match(yml, /^scope: /m);
    const one = join(t.dir, 'one.yml');
    const two = join(t.dir, 'two.yml');
    writeFileSync(one, yml.replace(/^scope: .*$/m, 'scope: "a\\e[2Jb<i>x`|"'));
    writeFileSync(two, yml.replace(/^scope: .*$/m, 'scope: "c\\e]0;t\\ad*_"').replace(/127\.0\.0\.1:\d+/g, '10.0.0.9:2379'));
    const db = join(t.dir, 'hostile.db');
    const ing = runCli(['ingest', '--db', db, one, two]);
    assert.equal(ing.code, 0, ing.stderr);
    const multi = json<Multi>(['analyze', '--db', db]);
    assert.deepEqual(multi.clusters.map((c) => c.cluster!.name).sort(), ['a\x1b[2Jb<i>x`|', 'c\x1b]0;t\x07d*_']);
    for (const args of [['ingest', '--db', db, one], ['sources', '--db', db], ['recommend', '--db', db], ['report', '--db', db],
      ['report', '--db', db, '--format', 'html']]) {
      const r = runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout + r.stderr), `${args[0]}: a control character reached the output`);
    }
    const html = runCli(['report', '--db', db, '--format', 'html']).stdout;
    assert.ok(!html.includes('<i>x'), 'a scope became HTML');
    assert.ok(html.includes('&lt;i&gt;x'));
    const md = runCli(['report', '--db', db]).stdout;
    assert.match(md, /^# Cluster a\\\\x1b\\\[2Jb\\<i\\>x\\`\\\|/m);
  } finally {
    t.cleanup();
  }
});
