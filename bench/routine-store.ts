// A store of N routine events for the analyze bench (issue 13: `analyze` on a store of 10 M routine events
// in under 3 s). Built from REAL rows: the real captures are ingested with `--keep-raw` by the built CLI
// (etcd 3.4.23 zap and capnslog logs of test/fixtures/etcd-3.4, the Patroni 3.0.2 logs of
// samples/patroni-nospace), then their routine rows (etcd.other, patroni.other, postgres.log) are copied by
// INSERT … SELECT, copy k shifted by k × the span of the originals in time and in line numbers, until the
// store holds N routine events. Nothing is invented: every copied row's text is a line a real program printed.
// All in one cluster (--cluster routine), so that analyze reads them (sources tied to no cluster are left out).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INPUTS = ['test/fixtures/etcd-3.4/etcd-zap.log', 'test/fixtures/etcd-3.4/etcd-capnslog.log', 'samples/patroni-nospace/patroni'];
const ROUTINE = `kind IN ('etcd.other', 'patroni.other', 'postgres.log')`;

export function buildRoutineStore(db: string, events: number): { events: number; seconds: number; how: string } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'etcd-forensics.js'), 'ingest', '--keep-raw', '--tz', 'Asia/Shanghai', '--cluster', 'routine', '--db', db,
    ...INPUTS.map((p) => join(ROOT, p))], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ingest of the real captures failed: ${r.stderr}`);
  const d = new Database(db);
  try {
    d.pragma('journal_mode = WAL');
    d.pragma('synchronous = OFF');
    const base = d.prepare(`SELECT count(*) AS n, max(ts_ms) - min(ts_ms) + 60000 AS span, max(line) AS lines FROM events WHERE ${ROUTINE}`)
      .get() as { n: number; span: number; lines: number };
    const copies = Math.ceil(events / base.n) - 1;
    const cols = 'source_id, line, ts_ms, utc_offset_min, time_basis, member, level, kind, message, raw, detail';
    d.exec(`CREATE TEMP TABLE base AS SELECT ${cols} FROM events WHERE ${ROUTINE} ORDER BY source_id, line`);
    const insert = d.prepare(`INSERT INTO events (${cols})
      SELECT source_id, line + ? * ${base.lines}, ts_ms + ? * ${base.span}, utc_offset_min, time_basis, member, level, kind, message, raw, detail
      FROM base`);
    const batch = d.transaction((from: number, to: number) => { for (let k = from; k <= to; k++) insert.run(k, k); });
    for (let k = 1; k <= copies; k += 500) batch(k, Math.min(copies, k + 499));
    d.exec('DROP TABLE base');
    const n = (d.prepare(`SELECT count(*) AS n FROM events WHERE ${ROUTINE}`).get() as { n: number }).n;
    return { events: n, seconds: (Date.now() - t0) / 1000,
      how: `${base.n} real routine rows of ${INPUTS.join(', ')} (ingest --keep-raw) copied ${copies} times by INSERT … SELECT, each copy shifted in time and line` };
  } finally {
    d.close();
  }
}
