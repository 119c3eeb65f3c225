// Detection of what a text input holds, on pastes built from REAL captured lines: a post's prose
// around a real `endpoint status` table, a traceback kept without its header (frames from the real
// Patroni 3.0.2 log, indentation collapsed as write-ups do), prose that only quotes the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { detectTextKind } from '../src/ingest/detect.js';

const FIX = new URL('./fixtures/', import.meta.url);
const read = (p: string): string[] => readFileSync(new URL(p, FIX), 'utf8').split('\n');

test('a real etcdctl table inside a post (prose, fences, the command) is a transcript, not etcdctl with skipped lines', () => {
  const table = read('etcd-3.4/endpoint-status.table.txt');
  assert.equal(detectTextKind(table).kind, 'etcdctl');
  const post = ["I've got error from patroni and the cluster will not take writes anymore", '```',
    'etcdctl endpoint status -w table', ...table, '```', 'etcdctl compact and etcdctl defrag did not help at all.'];
  assert.equal(detectTextKind(post).kind, 'transcript');
});

test('a bare traceback (frames only, indentation collapsed) is read as Patroni, not refused', () => {
  const frames = read('patroni-3.0.2/pg1/patroni.log').filter((l) => l.startsWith('  File "') || l.startsWith('    ')).slice(0, 8).map((l) => l.trim());
  assert.ok(frames.some((l) => l.startsWith('File "')), 'the real log has frames');
  assert.equal(detectTextKind(frames).kind, 'patroni-log');
});

test('prose about the incident with no log or etcdctl line is a transcript; unrelated prose is refused', () => {
  assert.equal(detectTextKind(['Patroni says etcdserver: mvcc: database space exceeded since this morning', 'what should we do?']).kind, 'transcript');
  assert.equal(detectTextKind(['Dear all,', 'the meeting moves to Tuesday.']).kind, null);
});

test('a Patroni traceback in journald (each frame its own entry) counts as Patroni, not prose', () => {
  // The real pg1 traceback frames behind the journald short prefix test/fixtures/patroni-derived/journald uses.
  const frames = read('patroni-3.0.2/pg1/patroni.log').filter((l) => /^\s+File "/.test(l)).slice(0, 6)
    .map((l) => `Nov 23 23:54:59 pg1 patroni[5152]: ${l.trim()}`);
  assert.equal(detectTextKind(frames).kind, 'patroni-log');
});

test('journald short with two spaces before the host (etcd#7356 paste) is read as etcd', () => {
  // Real lines from etcd#7356 (etcd 3.2 under systemd, capnslog's journald formatter: bare messages).
  const lines = [
    'Feb 15 02:57:33  vm3 etcd[1200]: recognized and used environment variable ETCD_DATA_DIR=/var/lib/etcd/default',
    'Feb 15 02:57:33  vm3 etcd[1200]: etcd Version: 3.2.0+git',
    'Feb 15 02:57:33  vm3 etcd[1200]: Git SHA: b9bbfda',
    'Feb 15 02:57:33  vm3 etcd[1200]: snapshot count = 100000',
  ];
  assert.equal(detectTextKind(lines).kind, 'etcd-log');
});

test("an etcdctl command pasted bare with its client's NOSPACE warning and error (etcd 3.5.16 lines) is a paste: the client saw NOSPACE", async () => {
  // Lines 60–62 of the real partial-recovery transcript (etcdctl 3.5.16 `put` during the NOSPACE), the prompt taken
  // off as posts paste them (etcd#11947's shape): a command, the client's zap retry warning, etcdctl's `Error:`.
  const real = read('partial-recovery-3.5.16/transcript.txt').slice(59, 62);
  assert.match(real[0]!, /^\[root@pg-etcd-1 ~\]# etcdctl .* put /);
  assert.match(real[1]!, /"msg":"retrying of unary invoker failed"/);
  const post = [real[0]!.replace(/^\[root@pg-etcd-1 ~\]# /, ''), real[1]!, real[2]!];
  const d = detectTextKind(post);
  assert.equal(d.kind, 'transcript', d.evidence);
  assert.match(d.evidence, /1 etcdctl\/etcdutl command line/);
  // Without the command, the warning alone is an etcd-log line; read there too as what a client saw.
  assert.equal(detectTextKind([real[1]!]).kind, 'etcd-log');
  const { createParser } = await import('../src/ingest/parsers.js');
  const p = createParser('etcd-log', { tz: null, member: null, referenceMs: Date.now() });
  const [ev] = [...p.push(real[1]!, 1), ...p.end()];
  assert.equal(ev?.kind, 'event');
  const e = ev as { event: string; detail: Record<string, unknown>; time: { ms: number } };
  assert.equal(e.event, 'etcdctl.client.error');
  assert.equal(e.detail.alarm, 'NOSPACE');
  assert.equal(e.detail.code, 'ResourceExhausted');
  assert.equal(e.time.ms, Date.parse('2026-11-30T04:15:22.681Z'));
});
