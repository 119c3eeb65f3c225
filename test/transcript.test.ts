// Pasted shell sessions: prompts, commands as operator actions, and what a command's output means.
// Fixtures: test/fixtures/transcripts-derived/ (a real etcdctl 3.4.23 session, prompts added by
// scripts/capture/etcdctl-session.sh) and the seed write-up (bare `etcdctl …` lines, no prompts, no times).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTranscriptParser } from '../src/sources/etcdctl/transcript.js';
import { createEtcdctlParser } from '../src/sources/etcdctl/parser.js';
import { parseCommandLine } from '../src/sources/etcdctl/command.js';
import type { LogEvent, ParseOutput, StreamParser } from '../src/model.js';

const CTX = { tz: null, member: null, referenceMs: Date.UTC(2026, 0, 1) };
const fixture = (rel: string) => fileURLToPath(new URL(`fixtures/${rel}`, import.meta.url));
const readLines = (rel: string) => readFileSync(fixture(rel), 'utf8').replace(/\n$/, '').split('\n');

function run(p: StreamParser, lines: readonly string[]): ParseOutput[] {
  return [...lines.flatMap((l, i) => p.push(l, i + 1)), ...p.end()];
}
const transcript = (lines: readonly string[]) => run(createTranscriptParser(CTX), lines);
const events = (out: ParseOutput[]) => out.filter((o): o is LogEvent => o.kind === 'event');
const byLine = (a: { line: number }, b: { line: number }) => a.line - b.line;
const iso = (e: { time: { ms: number } | null }) => (e.time ? new Date(e.time.ms).toISOString() : null);
const operator = (out: ParseOutput[]) => events(out).filter((e) => e.event.startsWith('operator.')).sort(byLine);

describe('a real session with timed prompts (session-timed-prompt.txt)', () => {
  const lines = readLines('transcripts-derived/session-timed-prompt.txt');
  const out = transcript(lines);
  // The time printed in front of each prompt, by line number.
  const promptTime = new Map(lines.flatMap((l, i) => {
    const m = /^(\S+)  \$ /.exec(l);
    return m ? [[i + 1, new Date(m[1]!).toISOString()] as const] : [];
  }));

  it('no issues; every etcdctl command is an operator action at its prompt\'s time, in order', () => {
    assert.deepEqual(out.filter((o) => o.kind === 'issue'), []);
    const ops = operator(out);
    assert.deepEqual(ops.map((e) => [e.event, e.detail.command ?? null]), [
      ['operator.command', 'put'],
      ['operator.check', 'alarm list'],
      ['operator.check', 'endpoint status'],
      ['operator.check', 'endpoint status'],
      ['operator.check', 'endpoint status'],
      ['operator.compact', null],
      ['operator.defrag', null],
      ['operator.alarm.disarm', null],
      ['operator.check', 'alarm list'],
      ['operator.command', 'put'],
      ['operator.check', 'endpoint status'],
      ['operator.check', 'endpoint status'],
    ]);
    for (const e of ops) assert.equal(iso(e), promptTime.get(e.line), `line ${e.line}`);
    assert.ok(ops.every((e) => e.time!.basis === 'marker' && e.time!.offsetMin === 0));
  });

  it('compact, defrag (a `\\` continuation joined) and disarm carry their details and were confirmed', () => {
    const ops = operator(out);
    const compact = ops.find((e) => e.event === 'operator.compact')!;
    assert.deepEqual([compact.detail.revision, compact.detail.endpoints, compact.detail.confirmed], [61, '127.0.0.1:23791', true]);
    assert.match(compact.message, /^ETCDCTL_API=3 etcdctl --endpoints=127\.0\.0\.1:23791 compact 61$/);
    const defrag = ops.find((e) => e.event === 'operator.defrag')!;
    assert.deepEqual([defrag.detail.endpoints, defrag.detail.cluster, defrag.detail.confirmed], ['127.0.0.1:23791', false, true]);
    assert.equal(defrag.raw.split('\n').length, 2);
    const disarm = ops.find((e) => e.event === 'operator.alarm.disarm')!;
    assert.equal(disarm.detail.confirmed, true);
    assert.ok(compact.line < defrag.line && defrag.line < disarm.line);
  });

  it('the alarm printed by `alarm disarm` is cleared, not active; the empty `alarm list` after it is "no alarm"', () => {
    const active = out.filter((o) => o.kind === 'alarm');
    assert.equal(active.length, 1, 'only the `alarm list` before recovery lists an active alarm');
    assert.deepEqual(active.map((a) => [a.line, a.memberId, a.alarm]), [[7, '13668033151171901709', 'NOSPACE']]);
    const cleared = events(out).filter((e) => e.event === 'etcdctl.alarm.cleared');
    assert.deepEqual(cleared.map((e) => [e.detail.memberId, e.detail.alarm]), [['13668033151171901709', 'NOSPACE']]);
    const disarm = operator(out).find((e) => e.event === 'operator.alarm.disarm')!;
    assert.equal(iso(cleared[0]!), iso(disarm));
    const none = events(out).filter((e) => e.event === 'etcdctl.alarm.none');
    assert.equal(none.length, 1);
    assert.equal(iso(none[0]!), promptTime.get(none[0]!.line));
    assert.ok(none[0]!.line > disarm.line);
  });

  it('client-side errors: NOSPACE seen by the put (its own warning\'s time, to the ms), a deadline at the end', () => {
    const ce = events(out).filter((e) => e.event === 'etcdctl.client.error').sort(byLine);
    assert.deepEqual(ce.map((e) => [e.line, e.detail.alarm, e.detail.code, e.detail.command]), [
      [4, 'NOSPACE', 'ResourceExhausted', 'put'],
      [5, 'NOSPACE', null, 'put'],
      [84, null, 'DeadlineExceeded', 'endpoint status'],
    ]);
    assert.equal(iso(ce[0]!), '2026-11-30T01:32:41.387Z');
    assert.equal(ce[0]!.time!.basis, 'explicit');
    assert.equal(iso(ce[2]!), '2026-11-30T01:32:45.267Z');
    const put = operator(out)[0]!;
    assert.match(String(put.detail.error), /database space exceeded/);
  });

  it('pretty-printed JSON (jq, python -m json.tool) is joined into one status sample each', () => {
    const status = out.filter((o) => o.kind === 'status').sort(byLine);
    assert.deepEqual(status.map((s) => [s.line, s.format, s.dbSizeBytes, s.dbSizeInUseBytes, s.revision, s.raftIndex]), [
      [12, 'table', 283_000, null, null, 67],
      [16, 'json', 282_624, 262_144, 61, 67],
      [40, 'json', 282_624, 262_144, 61, 67],
      [81, 'table', 49_000, null, null, 72],
    ]);
    // python keeps the uint64 ids; jq 1.6 rounded them to 17 digits (13668033151171901000), as printed.
    assert.equal(status[2]!.memberId, 'bdae9bbc11dd390d');
    assert.equal(status[0]!.memberId, 'bdae9bbc11dd390d');
    assert.notEqual(status[1]!.memberId, 'bdae9bbc11dd390d');
    assert.deepEqual(status[1]!.alarms, ['NOSPACE']);
    // Untimed output takes its prompt's time.
    assert.equal(iso(status[1]!), promptTime.get(15));
  });

  it('the etcdctl-kind parser reads the same session the same way', () => {
    const direct = run(createEtcdctlParser(CTX), lines);
    assert.deepEqual(direct.filter((o) => o.kind === 'issue'), []);
    assert.deepEqual(operator(direct).map((e) => [e.line, e.event, iso(e)]), operator(out).map((e) => [e.line, e.event, iso(e)]));
    assert.equal(direct.filter((o) => o.kind === 'alarm').length, 1);
  });
});

describe('a real session with root prompts, timed only by `date -u` (session-root-prompt.txt)', () => {
  const out = transcript(readLines('transcripts-derived/session-root-prompt.txt'));

  it('a command takes the date printed just before it (or its own warning\'s); others stay untimed', () => {
    assert.deepEqual(out.filter((o) => o.kind === 'issue'), []);
    assert.deepEqual(operator(out).map((e) => [e.event, iso(e)]), [
      ['operator.command', '2026-11-30T01:32:41.000Z'],
      ['operator.check', null],
      ['operator.check', null],
      ['operator.check', null],
      ['operator.check', null],
      ['operator.compact', '2026-11-30T01:32:42.000Z'],
      ['operator.defrag', null],
      ['operator.alarm.disarm', null],
      ['operator.check', null],
      ['operator.command', '2026-11-30T01:32:43.000Z'],
      ['operator.check', null],
      // timed by etcdctl's own retry warning in its output
      ['operator.check', '2026-11-30T01:32:45.267Z'],
    ]);
  });

  it('disarm output is cleared, not active, here too', () => {
    assert.equal(out.filter((o) => o.kind === 'alarm').length, 1);
    assert.equal(events(out).filter((e) => e.event === 'etcdctl.alarm.cleared').length, 1);
    assert.equal(events(out).filter((e) => e.event === 'etcdctl.alarm.none').length, 1);
  });
});

describe('the seed write-up (bare etcdctl lines, comments, prose, logs)', () => {
  const out = transcript(readLines('seed/etcd-no-space-incident.txt'));

  it('keeps its story: compact 6662600, defrag, disarm in order, all untimed', () => {
    const ops = operator(out).filter((e) => ['operator.compact', 'operator.defrag', 'operator.alarm.disarm'].includes(e.event));
    assert.deepEqual(ops.map((e) => [e.line, e.event, e.time]), [
      [102, 'operator.compact', null],
      [105, 'operator.defrag', null],
      [120, 'operator.alarm.disarm', null],
    ]);
    assert.equal(ops[0]!.detail.revision, 6662600);
    assert.equal(ops[0]!.detail.confirmed, true); // `compacted revision 6662600` follows
    assert.ok(operator(out).every((e) => e.time === null), 'log lines quoted after a command do not time it');
  });

  it('its `alarm list` output is the one active alarm; no "no alarm" is invented; the counts are unchanged', () => {
    assert.deepEqual(out.filter((o) => o.kind === 'alarm').map((a) => [a.line, a.memberId]), [[97, '1820643873094231375']]);
    assert.equal(events(out).filter((e) => e.event === 'etcdctl.alarm.none' || e.event === 'etcdctl.alarm.cleared').length, 0);
    assert.equal(out.filter((o) => o.kind === 'status').length, 9);
    assert.equal(out.filter((o) => o.kind === 'health').length, 3);
    assert.equal(out.filter((o) => o.kind === 'issue').length, 0);
  });
});

describe('blocks: logs pasted between commands', () => {
  it('log lines after `journalctl` are parsed as logs and do not time the command', () => {
    const zap = readLines('etcd-3.4/etcd-zap.log');
    const disarmed = zap.find((l) => l.includes('"msg":"alarm disarmed"'))!;
    const raised = zap.find((l) => l.includes('"msg":"alarm raised"'))!;
    const session = readLines('transcripts-derived/session-root-prompt.txt');
    const lines = [
      '[root@etcd-0 ~]# journalctl -u etcd --no-pager | tail -2', raised, disarmed,
      ...session.slice(session.findIndex((l) => l.endsWith('alarm disarm'))),
    ];
    const out = transcript(lines);
    assert.deepEqual(events(out).filter((e) => e.event.startsWith('etcd.alarm')).map((e) => [e.line, e.event]), [
      [2, 'etcd.alarm.raised'], [3, 'etcd.alarm.disarmed'],
    ]);
    const disarm = operator(out).find((e) => e.event === 'operator.alarm.disarm')!;
    assert.equal(disarm.time, null);
    assert.equal(events(out).filter((e) => e.event === 'etcdctl.alarm.cleared').length, 1);
    assert.equal(out.filter((o) => o.kind === 'alarm').length, 0);
  });

  it('an `alarm list` piped or redirected is not "no alarm"', () => {
    const out = transcript(['$ etcdctl alarm list | grep CORRUPT', '$ etcdctl alarm list > /tmp/alarms.txt', '$ etcdctl alarm list', '$ date']);
    assert.deepEqual(events(out).filter((e) => e.event === 'etcdctl.alarm.none').map((e) => e.line), [3]);
  });
});

describe('command lines', () => {
  const cmd = (line: string) => parseCommandLine(line, CTX);

  it('finds the command behind every prompt form and wrapper', () => {
    const cases: [string, string, string | null][] = [
      ['$ etcdctl defrag --cluster', 'operator.defrag', null],
      ['# etcdctl alarm disarm', 'operator.alarm.disarm', null],
      ['user@host:~$ ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.1:2379 compact 123', 'operator.compact', 'https://10.0.0.1:2379'],
      ['[root@etcd-1 ~]# sudo -E etcdctl --endpoints 10.0.0.2:2379 snapshot save /backup/etcd.db', 'operator.snapshot.save', '10.0.0.2:2379'],
      ['root@etcd-0:/# etcdctl endpoint status -w table', 'operator.check', null],
      ['/ # etcdctl alarm list', 'operator.check', null],
      ['PS C:\\> etcdctl.exe endpoint health', 'operator.check', null],
      ['kubectl exec -n kube-system etcd-master -- etcdctl --endpoints=https://127.0.0.1:2379 defrag', 'operator.defrag', 'https://127.0.0.1:2379'],
      ['$ kubectl -n kube-system exec etcd-0 -- sh -c "ETCDCTL_API=3 etcdctl alarm disarm"', 'operator.alarm.disarm', null],
      ['etcdutl defrag --data-dir /var/lib/etcd', 'operator.defrag', null],
      ['[2024-01-05 10:23:11] $ etcdctl compact 5', 'operator.compact', null],
    ];
    for (const [line, event, endpoints] of cases) {
      const c = cmd(line);
      assert.ok(c, line);
      assert.equal(c.action?.event, event, line);
      assert.equal(c.action?.detail.endpoints, endpoints, line);
    }
    assert.equal(cmd('etcdutl defrag --data-dir /var/lib/etcd')!.action!.detail.dataDir, '/var/lib/etcd');
    assert.equal(cmd('etcdutl defrag --data-dir /var/lib/etcd')!.tool, 'etcdutl');
    assert.equal(cmd('$ etcdctl defrag --cluster')!.action!.detail.cluster, true);
    assert.equal(cmd('[2024-01-05 10:23:11] $ etcdctl compact 5')!.time!.ms, Date.UTC(2024, 0, 5, 10, 23, 11));
    assert.equal(cmd('2026-11-24T07:28:59.445+08:00  $ etcdctl compact 3912')!.time!.ms, Date.UTC(2026, 10, 23, 23, 28, 59, 445));
  });

  it('comments, prose and output are not commands', () => {
    for (const line of ['# 检查告警', '# check the alarm first', '> quoted advice', 'etcdctl version: 3.4.23',
      'memberID:1820643873094231375 alarm:NOSPACE', 'compacted revision 6662600', '2023-09-24 04:30:23 +0800 ERROR: x',
      'etcdctl 的 defrag 之后', '// etcdctl defrag is next']) {
      assert.equal(cmd(line), null, line);
    }
  });
});

describe('command lines as posted (real lines from public posts)', () => {
  it('reads the binary from a variable, `$> ` and CoreOS host-user prompts, and refuses prose with a #', () => {
    const cases: [string, string | null][] = [
      ['$ETCDCTL defrag', 'operator.defrag'], //                                       beclab/Olares#3142
      ['$ETCDCTL alarm disarm', 'operator.alarm.disarm'], //                           beclab/Olares#3142
      [' $> etcdctl endpoint status', 'operator.check'], //                             etcd#12961
      ['ip-10-72-4-110 core # ETCDCTL_API=3 /opt/bin/etcdctl defrag', 'operator.defrag'], // etcd#8260
      ['I am # not a prompt', null],
    ];
    for (const [line, event] of cases) assert.equal(parseCommandLine(line, { tz: null })?.action?.event ?? null, event, line);
  });
});

describe('a runbook in a write-up (a Chinese blog post: indented commands with the binary by path)', () => {
  it('reads each indented command as an operator action, in order', () => {
    const lines = [
      '恢复步骤',
      '  1. 获取最近的 revision',
      '',
      '    /usr/local/etcd/etcdctl --user=$user --password=$password --endpoints=$host endpoint status',
      '  2. 压缩 etcd 的 revision',
      '',
      '    /usr/local/etcd/etcdctl --user=$user --password=$password --endpoints=$host compact $revision',
      '  3. 整理 etcd 碎片',
      '',
      '    /usr/local/etcd/etcdctl --user=$user --password=$password --endpoints=$host defrag',
    ];
    assert.deepEqual(operator(transcript(lines)).map((e) => [e.line, e.event]), [[4, 'operator.check'], [7, 'operator.compact'], [10, 'operator.defrag']]);
  });
});

describe('kubectl exec … -- etcdctl \\ continued over lines (a Russian write-up on kubeadm etcd)', () => {
  it('is one operator action with the flags of every line', () => {
    const lines = [
      'kubectl -n kube-system exec -it etcd-10-31-145-112 -- etcdctl \\',
      '--cert=/etc/kubernetes/pki/etcd/server.crt \\',
      '--key=/etc/kubernetes/pki/etcd/server.key \\',
      '--cacert=/etc/kubernetes/pki/etcd/ca.crt \\',
      'endpoint status --cluster -w table',
    ];
    const ops = operator(transcript(lines));
    assert.deepEqual(ops.map((e) => [e.line, e.event, e.detail['command'], e.detail['cluster']]), [[1, 'operator.check', 'endpoint status', true]]);
  });
});
