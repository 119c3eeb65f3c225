// Wrapped logs (CRI, docker json-file, kubectl --timestamps, journald json/json-pretty/export/short-*,
// rsyslog RFC 3339/5424, a shipper's prefix) through the built CLI: the same real inner lines, wrapped or
// bare, give the same events; the wrapper's time, host and zone fill what the inner line lacks.
// Fixtures: test/fixtures/envelope-derived (scripts/capture/derive-envelopes.mjs, README there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';
import { detectEnvelope } from '../src/sources/envelope/index.js';

const ENV = join(FIXTURES, 'envelope-derived');
const H8 = 8 * 3_600_000;

interface Ev { line: number; ts: number | null; off: number | null; basis: string; member: string | null; kind: string; message: string; raw: string }
interface Req { op: string; key: string; size: number | null; outcome: string }
interface Ingested { out: string; envelope: string | null; kind: string; events: Ev[]; requests: Req[] }

const { dir, cleanup } = tempDir('ef-envelope-');
test.after(cleanup);
let n = 0;

function ingest(path: string, ...args: string[]): Ingested {
  const db = join(dir, `s${n++}.db`);
  // --keep-raw: a row per line, since wrapped and bare are compared line by line (per-minute groups would
  // differ where the wrapper gives a zone-less line another minute).
  const r = runCli(['ingest', '--db', db, '--keep-raw', ...args, path]);
  assert.equal(r.code, 0, r.stderr);
  const d = new Database(db, { readonly: true });
  try {
    const events = d.prepare(`SELECT line, ts_ms AS ts, utc_offset_min AS off, time_basis AS basis, member, kind, message, raw
      FROM events ORDER BY line, id`).all() as Ev[];
    const requests = d.prepare(`SELECT op, key, value_size AS size, outcome FROM etcd_requests ORDER BY line, seq`).all() as Req[];
    const kind = (d.prepare('SELECT kind FROM sources').get() as { kind: string }).kind;
    const m = /\(inside (\S+) wrapper\)/.exec(r.stdout);
    return { out: r.stdout, envelope: m ? m[1]! : null, kind, events, requests };
  } finally {
    d.close();
  }
}

/** A bare file made at test time from real lines (the derivation's input). */
function bare(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}
const fileLines = (p: string): string[] => readFileSync(p, 'utf8').replace(/\n$/, '').split('\n');
// The zap excerpt: etcd-3.4-journald keeps the real lines verbatim after `Nov 24 07:26:49 etcd1 etcd[25254]: `.
const ZAP = bare('etcd-zap.log', fileLines(join(FIXTURES, 'etcd-3.4-journald', 'etcd-zap.journald.log')).map((l) => l.slice(l.indexOf(': ') + 2)));
const CAPN = bare('etcd-capnslog.log', fileLines(join(ENV, 'shipper', 'etcd-capnslog.kube-prefix.log')).map((l) => l.slice('kube-system/etcd-master-1: '.length)));
const PATRONI = bare('patroni.log', fileLines(join(ENV, 'shipper', 'patroni-pg1.compose.log')).map((l) => l.slice('pg1-1  | '.length)));

const shape = (i: Ingested) => i.events.map((e) => [e.kind, e.message]);
const alarm = (i: Ingested) => i.events.find((e) => e.kind === 'etcd.alarm.raised')!;

const zapBare = ingest(ZAP);
const capnBare = ingest(CAPN);
const patBare = ingest(PATRONI);

test('bare inputs: no wrapper claimed, and the baseline facts the wrapped forms are compared with', () => {
  for (const b of [zapBare, capnBare, patBare]) assert.equal(b.envelope, null, b.out);
  assert.equal(zapBare.kind, 'etcd-log');
  assert.equal(patBare.kind, 'patroni-log');
  assert.equal(zapBare.events.length, 255);
  assert.equal(zapBare.requests.length, 212);
  // zap's own explicit time: `{"level":"warn","ts":"2026-11-24T07:28:37.799+0800",…,"msg":"alarm raised",…}`
  assert.equal(new Date(alarm(zapBare).ts!).toISOString(), '2026-11-23T23:28:37.799Z');
  assert.equal(alarm(zapBare).member, 'etcd1');
});

test('every bare fixture of the other rooms is read with no wrapper', () => {
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
  // Logs and etcdctl outputs; not the capture harness's own files (writer*.log, watch.jsonl, the data-dir
  // captures' ops.log: `<time> <text>`, the form kubectl --timestamps prints), nor a member's WAL/snap files.
  const bareFiles = walk(FIXTURES).filter((p) => !p.includes('envelope-derived') && !p.includes('k3s-9251-paste')
    && !/\.(db|gz|md|yml|yaml|jsonl|env|json|wal|snap)$/.test(p) && !/\/(writer[^/]*|ops)\.log$/.test(p));
  assert.ok(bareFiles.length > 40);
  for (const p of bareFiles) {
    const d = detectEnvelope(readFileSync(p, 'utf8').split('\n').slice(0, 400));
    assert.equal(d.format, null, `${p}: ${d.evidence}`);
  }
  // journalctl -o cat: bare messages, nothing to take off.
  const cat = fileLines(join(ENV, 'journald', 'etcd-capnslog.journal.cat.log')).slice(0, 400);
  assert.equal(detectEnvelope(cat).format, null);
});

test('zap inside every wrapper: the same events and requests as bare, times to the ms, member etcd1', () => {
  const cases: [string, string][] = [
    ['cri/etcd-zap.cri.log', 'cri'],
    ['docker/etcd-zap.docker-json.log', 'docker-json'],
    ['journald/etcd-zap.journal.json', 'journald-json'],
    ['journald/etcd-zap.journal.export', 'journald-export'],
    ['journald/etcd-zap.journal.short-iso-precise.log', 'journald-short-iso'],
    ['rsyslog/etcd-zap.rfc5424.log', 'syslog-rfc5424'],
    ['rsyslog/etcd-zap.rfc3339.log', 'rsyslog-rfc3339'],
    ['shipper/etcd-zap.fluentd-tag.log', 'shipper-prefix'],
  ];
  for (const [f, env] of cases) {
    const w = ingest(join(ENV, f));
    assert.equal(w.envelope, env, f);
    assert.match(w.out, new RegExp(`etcd-log \\(inside ${env} wrapper\\)`));
    assert.deepEqual(shape(w), shape(zapBare), f);
    assert.deepEqual(w.requests, zapBare.requests, f);
    // grpc-go's `WARNING: 2026/11/24 07:28:58 …` has a local time without a zone: bare it is read as UTC,
    // wrapped its zone (+08:00) is learnt from the wrapper's time; the shipper's prefix has no time.
    const want = zapBare.events.map((e) => (e.basis === 'explicit' || env === 'shipper-prefix' ? e.ts : e.ts! - H8));
    assert.deepEqual(w.events.map((e) => e.ts), want, f);
    assert.equal(zapBare.events.filter((e) => e.basis !== 'explicit').length, 1);
    assert.equal(new Date(alarm(w).ts!).toISOString(), '2026-11-23T23:28:37.799Z', f);
    // A host-less wrapper names no member: the lines before zap's start-up line have none, as bare.
    const hostless = ['cri', 'docker-json', 'shipper-prefix'].includes(env);
    assert.deepEqual(w.events.map((e) => e.member), hostless ? zapBare.events.map((e) => e.member) : w.events.map(() => 'etcd1'), f);
  }
});

test('CRI: P parts are joined up to the F part, numbered by the first', () => {
  const lines = fileLines(join(ENV, 'cri', 'etcd-zap.cri.log'));
  const firstP = lines.findIndex((l) => / stderr P /.test(l));
  assert.ok(firstP >= 0 && lines.filter((l) => / stderr P /.test(l)).length >= 2);
  const w = ingest(join(ENV, 'cri', 'etcd-zap.cri.log'));
  const start = w.events.find((e) => e.kind === 'etcd.start' || e.message === 'starting an etcd server')!;
  assert.equal(start.line, firstP + 1);
  const whole = fileLines(ZAP).find((l) => l.includes('"msg":"starting an etcd server"'))!;
  assert.equal(start.raw, whole);
  assert.equal(w.events.length, zapBare.events.length);
});

test('docker json-file: an entry without its newline (a line split at 16 KiB) is joined with the next', () => {
  const lines = fileLines(join(ENV, 'docker', 'etcd-zap.docker-json.log'));
  const i = lines.findIndex((l) => l.includes('starting an etcd server'));
  const e = JSON.parse(lines[i]!) as { log: string; stream: string; time: string };
  const cut = 700;
  const parts = [{ ...e, log: e.log.slice(0, cut) }, { ...e, log: e.log.slice(cut) }].map((p) => JSON.stringify(p));
  const split = bare('split.docker-json.log', [...lines.slice(0, i), ...parts, ...lines.slice(i + 1)]);
  const w = ingest(split);
  assert.equal(w.envelope, 'docker-json');
  assert.deepEqual(shape(w), shape(zapBare));
  assert.equal(w.events.find((x) => x.message === 'starting an etcd server')!.raw, e.log.slice(0, -1));
});

test('capnslog inside CRI, kubectl --timestamps, RFC 5424: the zone (+08:00) is learnt from the outer UTC time', () => {
  for (const [f, env] of [['cri/etcd-capnslog.cri.log', 'cri'], ['kubectl/etcd-capnslog.kubectl-timestamps.log', 'kubectl-timestamps'],
    ['rsyslog/etcd-capnslog.rfc5424-nopri.log', 'syslog-rfc5424']] as const) {
    const w = ingest(join(ENV, f));
    assert.equal(w.envelope, env);
    assert.deepEqual(shape(w), shape(capnBare), f);
    assert.deepEqual(w.requests, capnBare.requests, f);
    // `2026-11-24 07:28:37.905… W | etcdserver: alarm raised` bare is read as UTC; wrapped it is +08:00.
    for (let k = 0; k < w.events.length; k++) {
      const [a, b] = [w.events[k]!, capnBare.events[k]!];
      if (b.ts === null) continue; // no time of its own (a start-up banner line): the wrapper's time, below
      assert.equal(a.ts, b.ts! - H8, `${f}:${a.line}`);
      assert.equal(a.off, 480);
      assert.equal(a.basis, 'explicit');
    }
    assert.equal(alarm(w).member, 'etcd2');
    assert.ok(w.events.every((e) => e.ts !== null && e.basis === 'explicit'), f);
  }
  // --tz given: the inner zone is the user's, not learnt.
  const given = ingest(join(ENV, 'cri', 'etcd-capnslog.cri.log'), '--tz', 'Asia/Shanghai');
  assert.deepEqual(given.events.filter((e, k) => capnBare.events[k]!.ts !== null).map((e) => e.ts),
    capnBare.events.filter((e) => e.ts !== null).map((e) => e.ts! - H8));
});

test('journald json, json-pretty, short-iso: capnslog\'s bare journal messages get the journal\'s time, host and tag', () => {
  const json = ingest(join(ENV, 'journald', 'etcd-capnslog.journal.json'));
  const pretty = ingest(join(ENV, 'journald', 'etcd-capnslog.journal.json-pretty'));
  const iso = ingest(join(ENV, 'journald', 'etcd-capnslog.journal.short-iso.log'));
  assert.deepEqual([json.envelope, pretty.envelope, iso.envelope], ['journald-json', 'journald-json-pretty', 'journald-short-iso']);
  assert.equal(json.kind, 'etcd-log');
  assert.deepEqual(shape(pretty), shape(json));
  assert.deepEqual(shape(iso), shape(json));
  assert.deepEqual(json.requests, capnBare.requests);
  // The journal's µs time of the capnslog record `2026-11-24 07:28:37.905… W | etcdserver: alarm raised`.
  const bareAlarm = alarm(capnBare);
  assert.equal(alarm(json).ts, bareAlarm.ts! - H8);
  assert.equal(alarm(json).basis, 'explicit');
  assert.equal(alarm(json).member, 'etcd2');
  assert.equal(alarm(iso).ts, Math.floor((bareAlarm.ts! - H8) / 1000) * 1000); // short-iso has whole seconds
  assert.deepEqual(json.events.map((e) => e.ts), pretty.events.map((e) => e.ts));
});

test('journald short-precise: no year in the prefix, the inner lines\' year (2026) wins over --at', () => {
  const w = ingest(join(ENV, 'journald', 'etcd-capnslog.journal.short-precise.log'), '--tz', 'Asia/Shanghai', '--at', '2031-03-01T00:00:00Z');
  const json = ingest(join(ENV, 'journald', 'etcd-capnslog.journal.json'));
  assert.equal(w.envelope, 'journald-short-precise');
  assert.deepEqual(shape(w), shape(json));
  assert.equal(alarm(w).ts, alarm(json).ts);
  assert.equal(alarm(w).basis, 'assumed-zone-year');
});

test('journald short in five locales (real journalctl output): the month names are read', () => {
  const iso = ingest(join(ENV, 'journald', 'etcd-capnslog.journal.short-iso.log'));
  const head = fileLines(join(ENV, 'journald', 'etcd-capnslog.journal.short.fr_FR.log'))[0]!;
  assert.match(head, /^nov\. 24 07:26:49 etcd2 etcd\[25255\]: /);
  for (const l of ['de_DE', 'fr_FR', 'es_ES', 'ru_RU', 'zh_CN']) {
    const w = ingest(join(ENV, 'journald', `etcd-capnslog.journal.short.${l}.log`), '--tz', 'Asia/Shanghai', '--at', '2026-12-01T00:00:00Z');
    assert.equal(w.envelope, null, l);
    assert.equal(w.kind, 'etcd-log', l);
    assert.deepEqual(shape(w), shape(iso), l);
    assert.deepEqual(w.events.map((e) => e.ts), iso.events.map((e) => e.ts), l);
  }
});

test('Patroni inside docker, kubectl, a compose prefix, journald json/export; MESSAGE as bytes, a binary export field', () => {
  const tabbed = 'primary: history=1\t0/408A268\tno recovery target specified';
  // journalctl prints a value that is not printable UTF-8 (an ESC, invalid bytes) as an array of byte values,
  // and the export format writes it (and any value with a newline) as a binary field: the same real
  // records, re-encoded here in those two documented forms.
  const jsonLines = fileLines(join(ENV, 'journald', 'patroni-pg1.journal.json')).map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    return JSON.stringify({ ...o, MESSAGE: [...Buffer.from(o['MESSAGE'] as string)] });
  });
  assert.match(jsonLines[0]!, /"MESSAGE":\[50,48,50,54,45,/);
  const asBytes = bare('patroni.bytes.journal.json', jsonLines);
  const exp = readFileSync(join(ENV, 'journald', 'patroni-pg1.journal.export'));
  const parts: Buffer[] = [];
  for (const line of exp.toString('utf8').split('\n')) {
    if (!line.startsWith('MESSAGE=')) {
      parts.push(Buffer.from(`${line}\n`));
      continue;
    }
    const v = Buffer.from(line.slice('MESSAGE='.length));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(v.length));
    parts.push(Buffer.from('MESSAGE\n'), len, v, Buffer.from('\n'));
  }
  const binExport = join(dir, 'patroni.binary.journal.export');
  writeFileSync(binExport, Buffer.concat(parts).subarray(0, -1));
  for (const [f, env, args] of [
    [asBytes, 'journald-json', ['--kind', 'patroni-log']],
    [binExport, 'journald-export', ['--kind', 'patroni-log']],
    ['docker/patroni-pg1.docker-json.log', 'docker-json', []],
    ['kubectl/patroni-pg1.kubectl-timestamps.log', 'kubectl-timestamps', []],
    ['shipper/patroni-pg1.compose.log', 'shipper-prefix', []],
    // detect.ts counts bare traceback frames as Patroni but not journald-prefixed ones: this excerpt is
    // traceback-heavy, so the kind is given.
    ['journald/patroni-pg1.journal.json', 'journald-json', ['--kind', 'patroni-log']],
    ['journald/patroni-pg1.journal.export', 'journald-export', ['--kind', 'patroni-log']],
  ] as const) {
    const w = ingest(f.startsWith('/') ? f : join(ENV, f), ...args);
    assert.equal(w.envelope, env, f);
    assert.equal(w.kind, 'patroni-log', f);
    assert.deepEqual(w.events.map((e) => e.kind), patBare.events.map((e) => e.kind), f);
    assert.deepEqual(w.events.map((e) => e.ts), patBare.events.map((e) => e.ts), f);
    assert.ok(w.events.some((e) => e.message.includes(tabbed)), f);
    if (env !== 'shipper-prefix') {
      // pg1's host zone is UTC: learnt as an explicit +00:00 from the wrapper's UTC time.
      assert.ok(w.events.every((e) => e.basis === 'explicit' && e.off === 0), f);
    }
    if (env.startsWith('journald')) assert.ok(w.events.every((e) => e.member === 'pg1'), f);
  }
});

test('a real posted paste behind a constant `bash[463359]: ` (k3s#9251) is read like the hand-cleaned copy', () => {
  const paste = ingest(join(FIXTURES, 'k3s-derived', 'k3s-9251-paste.txt'));
  const clean = ingest(join(FIXTURES, 'k3s-derived', 'k3s-9251.log'));
  assert.equal(paste.envelope, 'shipper-prefix');
  assert.equal(clean.envelope, null);
  assert.deepEqual(shape(paste), shape(clean));
  assert.deepEqual(paste.events.map((e) => e.ts), clean.events.map((e) => e.ts));
});

test('a prefix of one shape that varies per line (goreman time + name, syslog tag without time): learnt and taken off', () => {
  // goreman (etcd's Procfile runner) prints `fmt.Sprintf("%s %*s | ", time.Format("15:04:05"), width, name)`
  // before each line (mattn/goreman log.go); an etcd#4744-style paste shows `13:37:49 etcd1 | 2016-03-10 …`.
  const capn = fileLines(CAPN);
  const goreman = bare('goreman.log', capn.map((l, i) => `07:26:${String(i % 60).padStart(2, '0')} ${i % 2 ? 'etcd2' : 'etcd1'} | ${l}`));
  const g = ingest(goreman);
  assert.equal(g.envelope, 'shipper-prefix');
  assert.deepEqual(shape(g), shape(capnBare));
  assert.deepEqual(g.events.map((e) => e.ts), capnBare.events.map((e) => e.ts));
  // A syslog tag kept without its time (patroni#2249 pasted `patroni[6864]: ERROR: …`), pid varying.
  const pat = fileLines(PATRONI);
  const tagged = bare('tagged.log', pat.map((l, i) => `patroni[${6800 + (i % 7)}]: ${l}`));
  const t = ingest(tagged);
  assert.equal(t.envelope, 'shipper-prefix');
  assert.deepEqual(shape(t), shape(patBare));
});
