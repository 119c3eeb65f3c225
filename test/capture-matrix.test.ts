// The capture matrix: real etcd 3.5.16 / 3.5.30 (Debian trixie / sid) NOSPACE captures and real Patroni 4.0.7 / 4.1.5
// incidents in three log forms (scripts/capture/etcd-fixtures.sh, scripts/capture/patroni-matrix.sh), each ingested by
// the BUILT CLI. Expected values come from the captured files themselves (the zap line's own `ts`, etcdctl's own JSON,
// capture-meta.env written by the capture script) or are the fixed facts of that capture named in its README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';

type Row = Record<string, unknown>;

const tmp = tempDir('ef-matrix-');
after(() => tmp.cleanup());

function ingest(db: string, inputs: string[]): string {
  const r = runCli(['ingest', '--db', db, ...inputs]);
  // exit 2 = some files were not read or lines skipped (reported on stderr); the run itself must not crash.
  assert.ok(r.code === 0 || r.code === 2, `ingest exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+\.js:\d+/, 'no stack trace');
  assert.doesNotMatch(r.stderr, /^error:/m, 'no file failed');
  return r.stdout;
}

function query(db: string, sql: string): Row[] {
  const r = runCli(['query', '--db', db, '--json', sql]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

const lines = (p: string): string[] => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '');

function meta(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines(join(dir, 'capture-meta.env'))) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

// zap's `ts` as etcd 3.5 prints it: 2026-11-30T09:19:53.844714+0800 → UTC ms (microseconds truncated).
function zapTsMs(ts: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?([+-])(\d\d)(\d\d)$/.exec(ts);
  assert.ok(m, `zap ts ${ts}`);
  const frac = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  return Date.parse(`${m[1]}.${frac}${m[3]}${m[4]}:${m[5]}`);
}

function firstZap(file: string, msg: string): Row {
  const l = lines(file).find((x) => x.includes(`"msg":"${msg}"`));
  assert.ok(l, `no "${msg}" line in ${file}`);
  return JSON.parse(l) as Row;
}

// ---------------------------------------------------------------------------------------------------------------
// etcd 3.5.16 and 3.5.30

const ETCD_VERSIONS = ['3.5.16', '3.5.30'] as const;
const etcdDb = new Map<string, string>();

before(() => {
  for (const v of ETCD_VERSIONS) {
    const db = join(tmp.dir, `etcd-${v}.db`);
    ingest(db, [join(FIXTURES, `etcd-${v}`)]);
    etcdDb.set(v, db);
  }
});

const src = (name: string): string => `src.path LIKE '%/${name}'`;

for (const v of ETCD_VERSIONS) {
  const dir = join(FIXTURES, `etcd-${v}`);
  const db = (): string => etcdDb.get(v)!;

  test(`etcd ${v}: the version from both members' logs and from endpoint status`, () => {
    const starts = query(db(), `SELECT DISTINCT src.path p, json_extract(e.detail, '$.version') ver FROM events e
      JOIN sources src ON src.id = e.source_id WHERE e.kind = 'etcd.start' AND src.path LIKE '%/etcd_.log' ORDER BY src.path`);
    assert.deepEqual(starts.map((r) => [String(r['p']).split('/').pop(), r['ver']]), [['etcd1.log', v], ['etcd2.log', v]]);
    const st = query(db(), `SELECT DISTINCT s.version FROM status_samples s JOIN sources src ON src.id = s.source_id
      WHERE ${src('endpoint-status.json.txt')} OR ${src('status-samples.log')}`);
    assert.deepEqual(st.map((r) => r['version']), [v]);
  });

  test(`etcd ${v}: NOSPACE alarm raised and disarmed at the times the zap lines say`, () => {
    for (const [msg, kind] of [['alarm raised', 'etcd.alarm.raised'], ['alarm disarmed', 'etcd.alarm.disarmed']] as const) {
      const line = firstZap(join(dir, 'etcd1.log'), msg);
      const ev = query(db(), `SELECT e.ts_ms t, e.detail d FROM events e JOIN sources src ON src.id = e.source_id
        WHERE e.kind = '${kind}' AND ${src('etcd1.log')} ORDER BY e.ts_ms`);
      assert.equal(ev.length, 1, `${kind} events`);
      assert.equal(ev[0]!['t'], zapTsMs(String(line['ts'])));
      assert.deepEqual(JSON.parse(String(ev[0]!['d'])), { alarm: 'NOSPACE', from: line['from'] });
    }
    // Each `failed to apply request` line is one etcd.apply.failed event: the per-minute groups' counts
    // add up to the lines, and the groups are fewer rows than lines.
    for (const f of ['etcd1.log', 'etcd2.log']) {
      const n = lines(join(dir, f)).filter((l) => l.includes('"msg":"failed to apply request"')).length;
      assert.ok(n > 0);
      const got = query(db(), `SELECT sum(e.count) n, count(*) rows FROM events e JOIN sources src ON src.id = e.source_id
        WHERE e.kind = 'etcd.apply.failed' AND ${src(f)}`);
      assert.equal(got[0]!['n'], n, f);
      assert.ok(Number(got[0]!['rows']) <= n, f);
    }
  });

  test(`etcd ${v}: member names and ids from member list -w json`, () => {
    const j = JSON.parse(readFileSync(join(dir, 'member-list.json.txt'), 'utf8')) as { members: { ID: bigint; name: string }[] };
    const ids = readFileSync(join(dir, 'member-list.json.txt'), 'utf8').match(/"ID":(\d+)/g)!.map((x) => BigInt(x.slice(5)).toString(16));
    const rows = query(db(), `SELECT m.member_id id, m.name FROM members m JOIN sources src ON src.id = m.source_id
      WHERE ${src('member-list.json.txt')} ORDER BY m.name`);
    assert.deepEqual(rows.map((r) => r['name']), ['etcd1', 'etcd2']);
    assert.deepEqual(rows.map((r) => r['id']).sort(), ids.sort());
    assert.equal(j.members.length, 2);
  });

  test(`etcd ${v}: endpoint status during the alarm: db size, in-use size and revision as etcdctl printed them`, () => {
    const m = meta(dir);
    const text = readFileSync(join(dir, 'endpoint-status.json.txt'), 'utf8');
    const want = [...text.matchAll(/"Endpoint":"([^"]+)".*?"revision":(\d+).*?"dbSize":(\d+).*?"dbSizeInUse":(\d+)/g)]
      .map((x) => ({ endpoint: x[1], revision: Number(x[2]), db: Number(x[3]), inUse: Number(x[4]) }))
      .sort((a, b) => a.endpoint!.localeCompare(b.endpoint!));
    assert.equal(want.length, 2);
    const rows = query(db(), `SELECT s.endpoint, s.db_size_bytes db, s.db_size_in_use_bytes inUse, s.revision, s.alarms
      FROM status_samples s JOIN sources src ON src.id = s.source_id WHERE ${src('endpoint-status.json.txt')} ORDER BY s.endpoint`);
    assert.deepEqual(rows.map((r) => ({ endpoint: r['endpoint'], revision: r['revision'], db: r['db'], inUse: r['inUse'] })), want);
    for (const r of rows) assert.deepEqual(JSON.parse(String(r['alarms'])), ['NOSPACE']);
    // the revision at NOSPACE the capture script recorded
    assert.equal(want[0]!.revision, Number(m['NOSPACE_REVISION']));
    // at the alarm the backend is at the quota
    assert.ok(want.every((w) => w.db >= Number(m['QUOTA_BYTES']) - 8192), `dbSize near quota ${m['QUOTA_BYTES']}`);
  });

  test(`etcd ${v}: every sampled endpoint status keeps etcdctl's dbSize`, () => {
    const want: number[] = [];
    for (const l of lines(join(dir, 'status-samples.log'))) {
      if (!l.startsWith('[')) continue;
      for (const x of l.matchAll(/"dbSize":(\d+)/g)) want.push(Number(x[1]));
    }
    assert.ok(want.length > 20);
    const rows = query(db(), `SELECT s.db_size_bytes d FROM status_samples s JOIN sources src ON src.id = s.source_id
      WHERE ${src('status-samples.log')} ORDER BY s.line, s.seq`);
    assert.deepEqual(rows.map((r) => r['d']), want);
  });

  test(`etcd ${v}: compaction at the recovery revision; the 3.5.12+ line carries the db sizes`, () => {
    const m = meta(dir);
    const line = firstZap(join(dir, 'etcd1.log'), 'finished scheduled compaction');
    const ev = query(db(), `SELECT e.ts_ms t, e.detail d FROM events e JOIN sources src ON src.id = e.source_id
      WHERE e.kind = 'etcd.compaction.finished' AND ${src('etcd1.log')}`);
    assert.equal(ev.length, 1);
    const d = JSON.parse(String(ev[0]!['d'])) as Row;
    assert.equal(ev[0]!['t'], zapTsMs(String(line['ts'])));
    assert.equal(d['revision'], Number(m['COMPACT_REVISION']));
    assert.equal(d['revision'], line['compact-revision']);
    assert.equal(d['hash'], line['hash']);
    assert.equal(d['dbSizeBytes'], line['current-db-size-bytes']);
    assert.equal(d['dbSizeInUseBytes'], line['current-db-size-in-use-bytes']);
    assert.equal(typeof d['dbSizeBytes'], 'number');
  });

  test(`etcd ${v}: etcdutl snapshot status in json, simple and fields, and the snapshot file itself, agree`, () => {
    const j = JSON.parse(lines(join(dir, 'etcdutl-snapshot-status-nospace.json.txt'))[0]!) as
      { hash: number; revision: number; totalKey: number; totalSize: number };
    const hash = j.hash.toString(16).padStart(8, '0');
    const rows = query(db(), `SELECT src.path p, x.format, x.hash, x.revision, x.total_keys k, x.total_size_bytes s
      FROM snapshot_status x JOIN sources src ON src.id = x.source_id
      WHERE src.path LIKE '%etcdutl-snapshot-status-nospace.%' OR ${src('snapshot-nospace.db')} ORDER BY x.format`);
    // 3.5.30 as Debian sid builds it draws its tables with box-drawing characters (┌─┬─┐ │); 3.5.16 with ASCII.
    assert.deepEqual(rows.map((r) => r['format']), ['bbolt', 'fields', 'json', 'simple', 'table']);
    for (const r of rows) {
      assert.equal(r['hash'], hash, String(r['p']));
      assert.equal(r['revision'], j.revision, String(r['p']));
      assert.equal(r['k'], j.totalKey, String(r['p']));
    }
    // simple and table print "262 kB": rounded; json, fields and the file give the bytes.
    assert.deepEqual(rows.filter((r) => r['format'] !== 'simple' && r['format'] !== 'table').map((r) => r['s']),
      [j.totalSize, j.totalSize, j.totalSize]);
    assert.equal(j.revision, Number(meta(dir)['NOSPACE_REVISION']));
    const file = query(db(), `SELECT f.revision, f.db_size_bytes s FROM snapshot_files f JOIN sources src ON src.id = f.source_id
      WHERE ${src('snapshot-nospace.db')}`);
    assert.deepEqual(file, [{ revision: j.revision, s: j.totalSize }]);
  });
}

for (const v of ETCD_VERSIONS) {
  const dir = join(FIXTURES, `etcd-${v}`);
  const db = (): string => etcdDb.get(v)!;
  // 3.5.30 (Debian sid build) tables are box-drawn, 3.5.16's ASCII.
  const formats = ['fields', 'json', 'simple', 'table'];

  test(`etcd ${v}: endpoint status and health in every -w format give the same endpoints and sizes as json`, () => {
    const text = readFileSync(join(dir, 'endpoint-status.json.txt'), 'utf8');
    const size = new Map([...text.matchAll(/"Endpoint":"([^"]+)".*?"dbSize":(\d+)/g)].map((x) => [x[1]!, Number(x[2])]));
    const rows = query(db(), `SELECT src.path p, s.format f, s.endpoint e, s.db_size_bytes d, s.db_size_approx a, s.version
      FROM status_samples s JOIN sources src ON src.id = s.source_id WHERE src.path LIKE '%/endpoint-status.%.txt' ORDER BY s.format, s.endpoint`);
    assert.deepEqual([...new Set(rows.map((r) => r['f']))], formats);
    for (const r of rows) {
      const want = size.get(String(r['e']));
      assert.ok(want !== undefined, `endpoint ${String(r['e'])}`);
      assert.equal(r['version'], v);
      if (r['a'] === 1) assert.ok(Math.abs(Number(r['d']) - want) < 1000, `${String(r['p'])} ${String(r['d'])} ~ ${want}`);
      else assert.equal(r['d'], want, String(r['p']));
    }
    assert.equal(rows.length, 2 * formats.length);

    const health = JSON.parse(lines(join(dir, 'endpoint-health.json.txt'))[0]!) as { endpoint: string; health: boolean; error: string }[];
    const h = query(db(), `SELECT s.format f, s.endpoint e, s.healthy, s.error FROM health_samples s JOIN sources src ON src.id = s.source_id
      WHERE src.path LIKE '%/endpoint-health.%.txt' ORDER BY s.format, s.endpoint`);
    assert.deepEqual([...new Set(h.map((r) => r['f']))], formats);
    const byEp = new Map(health.map((x) => [x.endpoint, x]));
    for (const r of h) {
      const want = byEp.get(String(r['e']))!;
      assert.equal(r['healthy'], want.health ? 1 : 0);
      assert.equal(r['error'], want.error.trim());
      assert.match(String(r['error']), /^Active Alarm\(s\): NOSPACE/);
    }
    assert.equal(h.length, 2 * formats.length);
  });
}

for (const v of ETCD_VERSIONS) {
  const dir = join(FIXTURES, `etcd-${v}`);
  test(`etcd ${v}: online defrag of each member and offline etcdutl defrag, with the sizes the lines print`, () => {
    const db = etcdDb.get(v)!;
    for (const f of ['etcd1.log', 'etcd2.log']) {
      const line = firstZap(join(dir, f), 'finished defragmenting directory');
      const ev = query(db, `SELECT e.ts_ms t, e.detail d FROM events e JOIN sources src ON src.id = e.source_id
        WHERE e.kind = 'etcd.defrag.finished' AND json_extract(e.detail, '$.source') = 'backend' AND ${src(f)}`);
      assert.equal(ev.length, 1, f);
      const d = JSON.parse(String(ev[0]!['d'])) as Row;
      assert.equal(ev[0]!['t'], zapTsMs(String(line['ts'])), f);
      assert.deepEqual([d['dbSizeBytes'], d['dbSizeInUseBytes'], d['dbSizeDiffBytes'], d['dbSizeInUseDiffBytes']],
        [line['current-db-size-bytes'], line['current-db-size-in-use-bytes'], line['current-db-size-bytes-diff'],
          line['current-db-size-in-use-bytes-diff']], f);
      assert.ok(Number(d['dbSizeDiffBytes']) < 0, `${f}: defrag shrank the file`);
    }
    // etcdutl (zap console encoder): `<time>\tinfo\t<caller>\tfinished defragmenting directory\t{json}`
    const l = lines(join(dir, 'etcdutl-defrag-etcd2.txt')).find((x) => x.includes('\tfinished defragmenting directory\t'));
    assert.ok(l);
    const [time] = l.split('\t');
    const fields = JSON.parse(l.slice(l.indexOf('{'))) as Row;
    const ev = query(db, `SELECT e.ts_ms t, e.detail d FROM events e JOIN sources src ON src.id = e.source_id
      WHERE ${src('etcdutl-defrag-etcd2.txt')} AND e.kind = 'etcdctl.defrag'`);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!['t'], Date.parse(time!));
    const d = JSON.parse(String(ev[0]!['d'])) as Row;
    assert.equal(d['tool'], 'etcdutl');
    assert.equal(d['dbSizeBytes'], fields['current-db-size-bytes']);
    assert.equal(d['dbSizeInUseBytes'], fields['current-db-size-in-use-bytes']);
  });
}

for (const v of ETCD_VERSIONS) {
  const dir = join(FIXTURES, `etcd-${v}`);
  test(`etcd ${v}: member list in every -w format and alarm list in json, simple and fields name the same members and alarms`, () => {
    const db = etcdDb.get(v)!;
    const members = query(db, `SELECT substr(src.path, instr(src.path, 'member-list.')) f, group_concat(m.name) names
      FROM members m JOIN sources src ON src.id = m.source_id WHERE src.path LIKE '%/member-list.%' GROUP BY src.id ORDER BY f`);
    assert.deepEqual(members.map((r) => [r['f'], String(r['names']).split(',').sort().join(',')]),
      ['fields', 'json', 'simple', 'table'].map((f) => [`member-list.${f}.txt`, 'etcd1,etcd2']));
    // etcdctl's own JSON: the members holding an alarm (decimal ids), alarm 1 = NOSPACE
    const text = readFileSync(join(dir, 'alarm-list.json.txt'), 'utf8');
    const want = [...text.matchAll(/"memberID":(\d+),"alarm":(\d+)/g)].map((x) => `${x[1]}:${x[2] === '1' ? 'NOSPACE' : x[2]}`).sort();
    assert.ok(want.length >= 1);
    const alarms = query(db, `SELECT substr(src.path, instr(src.path, 'alarm-list.')) f, group_concat(a.member_id || ':' || a.alarm) a
      FROM alarms a JOIN sources src ON src.id = a.source_id WHERE src.path LIKE '%/alarm-list.%' GROUP BY src.id ORDER BY f`);
    assert.deepEqual(alarms.map((r) => [r['f'], String(r['a']).split(',').sort()]),
      ['fields', 'json', 'simple'].map((f) => [`alarm-list.${f}.txt`, want]));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Patroni 4.0.7 (trixie, with etcd 3.5.16) and 4.1.5 (sid, with etcd 3.5.30): one incident per log form.
// etcd 3.5's gRPC gateway answers a refused put with {"code":8,"message":"etcdserver: mvcc: database space exceeded"}
// (no "error" key), which Patroni 4.0.7 turns into `<Unknown error: 'None', code: 2>`: its log never names NOSPACE
// (the parser files those as patroni.nospace, opaque; the etcd member's `alarm raised` line is the cause). Patroni
// 4.1.5 reads the gateway's message: `<ResourceExhausted error: 'etcdserver: mvcc: database space exceeded', code: 8>`.

type Form = 'default' | 'json' | 'custom';
const FORMS: Form[] = ['default', 'json', 'custom'];

interface FirstWrite { write: string; key: string }
interface DcsError { errorClass: string; error: string; code: number }
const DCS_ERROR: Record<string, DcsError> = {
  '4.0.7': { errorClass: 'Unknown', error: 'None', code: 2 },
  '4.1.5': { errorClass: 'ResourceExhausted', error: 'etcdserver: mvcc: database space exceeded', code: 8 },
};
// The first refused DCS write of each node, read off the captured logs (see each folder's INCIDENT.md).
const PATRONI: Record<string, Record<Form, Record<string, FirstWrite>>> = {
  '4.0.7': {
    default: { pg1: { write: '_write_status', key: 'status' }, pg2: { write: 'touch_member', key: 'members/pg2' },
      pg3: { write: 'touch_member', key: 'members/pg3' } },
    json: { pg1: { write: '_write_status', key: 'status' }, pg2: { write: 'touch_member', key: 'members/pg2' },
      pg3: { write: 'touch_member', key: 'members/pg3' } },
    custom: { pg1: { write: 'touch_member', key: 'members/pg1' }, pg2: { write: 'touch_member', key: 'members/pg2' },
      pg3: { write: 'touch_member', key: 'members/pg3' } },
  },
  '4.1.5': {
    default: { pg1: { write: '_write_status', key: 'status' }, pg2: { write: 'touch_member', key: 'members/pg2' },
      pg3: { write: 'touch_member', key: 'members/pg3' } },
    json: { pg1: { write: '_write_status', key: 'status' }, pg2: { write: 'touch_member', key: 'members/pg2' },
      pg3: { write: 'touch_member', key: 'members/pg3' } },
    custom: { pg1: { write: '_write_status', key: 'status' }, pg2: { write: 'touch_member', key: 'members/pg2' },
      pg3: { write: 'touch_member', key: 'members/pg3' } },
  },
};

// The time a Patroni record's head line names, in UTC ms (the capture host runs in UTC; pg2 of the default run uses
// pigsty's dateformat '%Y-%m-%d %H:%M:%S %z' in Asia/Shanghai).
function headMs(form: Form, line: string): number {
  if (form === 'json') {
    const a = String((JSON.parse(line) as Row)['asctime']);
    return Date.parse(`${a.replace(' ', 'T').replace(',', '.')}Z`);
  }
  const m = /^\[?(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:,(\d{3}))?(?: ([+-]\d\d)(\d\d))?\]?/.exec(line);
  assert.ok(m, `head of ${line}`);
  return Date.parse(`${m[1]}T${m[2]}.${m[3] ?? '000'}${m[4] ? `${m[4]}:${m[5]}` : 'Z'}`);
}

const isError = (form: Form, line: string): boolean =>
  form === 'json' ? line.includes('"levelname": "ERROR"') : form === 'custom' ? /^\[[^\]]+\]\[ERROR\] /.test(line)
    : /^\d{4}-\d\d-\d\d [\d:,]+(?: [+-]\d{4})? ERROR: /.test(line);

const patroniDb = new Map<string, string>();
before(() => {
  for (const v of Object.keys(PATRONI)) {
    for (const form of FORMS) {
      const db = join(tmp.dir, `patroni-${v}-${form}.db`);
      ingest(db, [join(FIXTURES, `patroni-${v}`, form)]);
      patroniDb.set(`${v}/${form}`, db);
    }
  }
});

for (const v of Object.keys(PATRONI)) {
  for (const form of FORMS) {
    const dir = join(FIXTURES, `patroni-${v}`, form);
    const db = (): string => patroniDb.get(`${v}/${form}`)!;

    test(`patroni ${v} (${form}): each node's first refused DCS write, its time and key, after etcd's alarm`, () => {
      const alarm = firstZap(join(dir, 'etcd1.log'), 'alarm raised');
      const alarmMs = Date.parse(String(alarm['ts'])); // Z-suffixed: the capture host runs in UTC
      const ev = query(db(), `SELECT e.ts_ms t FROM events e JOIN sources src ON src.id = e.source_id
        WHERE e.kind = 'etcd.alarm.raised' AND ${src('etcd1.log')}`);
      assert.deepEqual(ev, [{ t: alarmMs }]);
      for (const [node, want] of Object.entries(PATRONI[v]![form])) {
        const file = join(dir, node, 'patroni.log');
        const all = readFileSync(file, 'utf8').split('\n');
        const firstErr = all.findIndex((l) => isError(form, l));
        assert.ok(firstErr >= 0, `${node}: an ERROR record`);
        const rows = query(db(), `SELECT e.line, e.ts_ms t, e.level, e.detail d FROM events e JOIN sources src ON src.id = e.source_id
          WHERE e.kind = 'patroni.nospace' AND ${src(`${node}/patroni.log`)} ORDER BY e.ts_ms, e.line LIMIT 1`);
        assert.equal(rows.length, 1, `${node}: a patroni.nospace event`);
        const r = rows[0]!;
        assert.equal(r['line'], firstErr + 1, `${node}: the first ERROR record is the first refused write`);
        assert.equal(r['t'], headMs(form, all[firstErr]!), `${node}: time of ${all[firstErr]!.slice(0, 60)}`);
        assert.equal(r['level'], 'error');
        const d = JSON.parse(String(r['d'])) as Row;
        assert.deepEqual({ write: d['write'], key: d['key'] }, want, node);
        const e = DCS_ERROR[v]!;
        assert.deepEqual({ errorClass: d['errorClass'], error: d['error'], code: d['code'] }, e, node);
        // (pg2 of the default run logs whole seconds: its head may name the alarm's own second)
        assert.ok(Number(r['t']) + 999 >= alarmMs && Number(r['t']) - alarmMs < 5000, `${node}: within 5 s after the alarm`);
      }
    });
  }

  // The same records in another form must parse the same: the JSON and custom logs are re-rendered record by record
  // in Patroni's default form (asctime levelname: message, then the traceback lines), as logging.Formatter would
  // print them, and both are ingested; kinds, times, levels and written keys must match in order.
  for (const form of ['json', 'custom'] as const) {
    test(`patroni ${v}: ${form} records parse to the same events as the same records in the default form`, () => {
      const dir = join(FIXTURES, `patroni-${v}`, form);
      const out = join(tmp.dir, `rerender-${v}-${form}`);
      const db = join(tmp.dir, `rerender-${v}-${form}.db`);
      let records = 0;
      for (const node of readdirSync(dir).filter((n) => /^pg\d$/.test(n))) {
        const text: string[] = [];
        for (const l of readFileSync(join(dir, node, 'patroni.log'), 'utf8').split('\n')) {
          if (l === '') continue;
          if (form === 'json') {
            const j = JSON.parse(l) as Record<string, string>;
            text.push(`${j['asctime']} ${j['levelname']}: ${j['message']}${j['exc_info'] ? `\n${j['exc_info']}` : ''}`);
            records++;
          } else {
            const m = /^\[([^\]]+)\]\[([A-Z]+)\] (.*)$/s.exec(l);
            if (m) records++;
            text.push(m ? `${m[1]} ${m[2]}: ${m[3]}` : l);
          }
        }
        mkdirSync(join(out, node), { recursive: true });
        writeFileSync(join(out, node, 'patroni.log'), `${text.join('\n')}\n`);
      }
      assert.ok(records > 500, `${records} records`);
      // --keep-raw on both sides: a row per record, compared in order (the default store folds repeated
      // records per minute, and the shared store below is the default one).
      ingest(db, ['--keep-raw', out]);
      const origDb = join(tmp.dir, `orig-${v}-${form}.db`);
      ingest(origDb, ['--keep-raw', dir]);
      const pick = (d: string, like: string): Row[] => query(d, `SELECT substr(src.path, -14, 3) n, e.kind, e.ts_ms, e.level,
          json_extract(e.detail, '$.write') w, json_extract(e.detail, '$.key') k
        FROM events e JOIN sources src ON src.id = e.source_id WHERE src.path LIKE '${like}' ORDER BY src.path, e.line`);
      const orig = pick(origDb, '%/patroni.log');
      const again = pick(db, '%/patroni.log');
      assert.ok(orig.length > 500);
      assert.deepEqual(orig, again);
    });
  }
}
