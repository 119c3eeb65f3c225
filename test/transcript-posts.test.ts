// Pastes as people post them: quoted with `> `, a log line in an inline code span, a syslog tag kept
// without its time, the NOSPACE error quoted from another client's log, a journald paste whose Patroni
// lines carry their own year. Every line below is quoted from the public post named beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, tempDir } from './helpers/cli.js';

interface Ev { line: number; kind: string; ts: number | null; detail: string }

function ingestPaste(lines: string[]): { code: number; kind: string; events: Ev[] } {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'post.txt');
    writeFileSync(p, `${lines.join('\n')}\n`);
    // The paste was saved in 2026: its mtime must not give 2026 to lines whose own text says 2020.
    utimesSync(p, new Date('2026-11-30T00:00:00Z'), new Date('2026-11-30T00:00:00Z'));
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--db', db, p]);
    const d = new Database(db, { readonly: true });
    try {
      const kind = (d.prepare('SELECT kind FROM sources').get() as { kind: string }).kind;
      const events = d.prepare('SELECT line, kind, ts_ms AS ts, detail FROM events ORDER BY line, id').all() as Ev[];
      return { code: r.code, kind, events };
    } finally {
      d.close();
    }
  } finally {
    cleanup();
  }
}

test('a Patroni log quoted with `> ` in a post (patroni#534): the quoted records and their DCS error are read', () => {
  const r = ingestPaste([
    'Hello! I want to run failover on 2 nodes, but I have error:',
    '',
    '> 2017-10-02 18:00:18,703 INFO: Selected new etcd server http://127.0.0.1:2379',
    '> 2017-10-02 18:00:19,216 ERROR:',
    '> Traceback (most recent call last):',
    '>   File "/usr/lib/python2.7/site-packages/patroni/dcs/etcd.py", line 329, in wrapper',
    '>     retval = func(self, *args, **kwargs) is not None',
    '> EtcdKeyNotFound: Key not found : /service/mycluster/leader',
  ]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.events.map((e) => [e.line, e.kind, e.ts === null ? null : new Date(e.ts).toISOString()]), [
    [3, 'patroni.dcs-switch', '2017-10-02T18:00:18.703Z'],
    [4, 'patroni.dcs-error', '2017-10-02T18:00:19.216Z'],
  ]);
  assert.equal(JSON.parse(r.events[1]!.detail).keyPath, '/service/mycluster/leader');
});

test('the NOSPACE error quoted from other clients (tikv/pd#4280, kube-apiserver in a Kublr note) is client-side NOSPACE evidence', () => {
  const r = ingestPaste([
    'PD etcd database space exceed 8G, then PD start failed.',
    'PD log content：',
    '```',
    '  [error="rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded"]',
    '```',
    'This condition can be detected by log messages in apiserver.log, like:',
    'compact.go:124] etcd: endpoint ([https://172.16.4.149:2379]) compact failed: etcdserver: mvcc: database space exceeded',
  ]);
  assert.equal(r.code, 0);
  const errors = r.events.filter((e) => e.kind === 'etcdctl.client.error').map((e) => [e.line, JSON.parse(e.detail)]);
  assert.deepEqual(errors, [
    [4, { error: 'rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded', code: 'ResourceExhausted', alarm: 'NOSPACE' }],
    [7, { error: 'etcdserver: mvcc: database space exceeded', code: null, alarm: 'NOSPACE' }],
  ]);
});

test('a Patroni line in an inline code span (patroni#659)', () => {
  const r = ingestPaste([
    'The leader logged `2018-04-19 14:06:48,189 INFO: PAUSE: demoted self because failed to update leader lock in DCS` and then',
    'nothing else happened on that node until the restart.',
  ]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.events.map((e) => [e.line, e.kind]), [[1, 'patroni.demoted']]);
  assert.equal(new Date(r.events[0]!.ts!).toISOString(), '2018-04-19T14:06:48.189Z');
});

test('journald lines around Patroni records that carry 2020 keep 2020, whatever the file time (patroni#1521)', () => {
  const r = ingestPaste([
    'May 03 02:31:13 rep-portal-database2 patroni[2350]: EtcdKeyNotFound: Key not found : /db/postgres/leader',
    'May 03 02:31:13 rep-portal-database2 patroni[2350]: 2020-05-03 02:31:13,685 ERROR: failed to update leader lock',
    'May 03 02:31:28 rep-portal-database2 patroni[2350]: 2020-05-03 02:31:28,046 INFO: demoted self because failed to update leader lock in DCS',
  ]);
  assert.equal(r.kind, 'patroni-log');
  assert.deepEqual(r.events.map((e) => new Date(e.ts!).toISOString()), [
    '2020-05-03T02:31:13.000Z', '2020-05-03T02:31:13.685Z', '2020-05-03T02:31:28.046Z',
  ]);
});

test('a zap warning a terminal wrapped over four lines (replicatedhq/kURL#3923) is one client error, timed by its ts', () => {
  const r = ingestPaste([
    "sh-5.1# etcdctl alarm list",
    "{\"level\":\"warn\",\"ts\":\"2023-01-11T20:27:40.371Z\",\"logger\":\"etcd-client\",\"caller\":\"v3@v3.5.6/retry_intercepto",
    "r.go:62\",\"msg\":\"retrying of unary invoker failed\",\"target\":\"etcd-endpoints://0xc000430a80/127.0.0.1:2379\",\"",
    "attempt\":0,\"error\":\"rpc error: code = DeadlineExceeded desc = latest balancer error: last connection error:",
    " connection closed before server preface received\"}",
    "Error: context deadline exceeded",
  ]);
  assert.equal(r.code, 0);
  const errors = r.events.filter((e) => e.kind === 'etcdctl.client.error');
  assert.equal(errors[0]!.line, 2);
  assert.equal(new Date(errors[0]!.ts!).toISOString(), '2023-01-11T20:27:40.371Z');
  assert.match(JSON.parse(errors[0]!.detail).error, /^rpc error: code = DeadlineExceeded desc = latest balancer error: last connection error: connection closed before server preface received/);
});
