// Issue 5, end to end: a REDUCED real capture (1 etcd 3.4 member, 1 Patroni 3.0.2 with PostgreSQL 15,
// scripts/capture/patroni-incident.sh) runs into a temp OUT_DIR until etcd raises NOSPACE on
// Patroni's own writes and the recovery runbook has run; the BUILT CLI then ingests what the capture
// wrote (etcd log, Patroni log, status samples, recovery outputs, the snapshot taken before the
// recovery, gzipped) and its `analyze`, `churn` and `timeline` JSON are checked against the truth the
// capture recorded itself: the `/service` watch, the etcd log's `alarm raised` line, the Patroni log,
// the filler's own log and the etcdctl outputs.
//
// Every process the capture starts is stopped, pass or fail: the script stops its own by PID on exit;
// if it has to be killed (deadline, or this test process is interrupted), its process group gets
// SIGTERM then SIGKILL, and any process left from it is found by PID in /proc (same process group, a
// command line naming the capture's work dir or OUT_DIR, or a descendant of one of these: Patroni
// starts the postmaster in its own session) and stopped by that PID. Nothing is ever signalled by name.
//
// Never skipped: without etcd, etcdctl, patroni, PostgreSQL 15, jq, python3, setpriv, the `postgres`
// user or root, it fails and says what is missing (npm test's pretest installs etcd and Patroni).
// The whole test takes ~70–120 s; E2E_DEADLINE_MS (default 250000) bounds the capture itself.
import { test } from 'node:test';
import { watchTruth } from './helpers/watch-truth.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from './helpers/cli.js';
import type { AnalysisReport, TimelineEntry } from '../src/analyze/types.js';

const SCRIPT = join(ROOT, 'scripts', 'capture', 'patroni-incident.sh');
const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const SCOPE = 'pg_demo';
const PREFIX = `/service/${SCOPE}/`;
const QUOTA_BYTES = 3 * 1024 * 1024;
/** The capture must be done by then (it takes ~1.5–2 min); then it is killed and the test fails. */
const CAPTURE_DEADLINE_MS = Number(process.env['E2E_DEADLINE_MS'] ?? 250_000);
const TEST_TIMEOUT_MS = 360_000;

const CAPTURE_ENV = {
  TZ: 'UTC', // the script's `date -Is` markers and Patroni's zone-less log times are then UTC: ingest with --tz UTC
  ETCD_MEMBERS: '1',
  PATRONI_NODES: '1',
  QUOTA_BYTES: String(QUOTA_BYTES),
  // The filler writes 40 × 900-byte values per txn to /filler/*, 4 per txn in the last 128 KiB (one
  // 40-value txn can grow the backend by more than 45 KiB), and stops 48 KiB below the quota (24 KiB was crossed by the
  // filler's own last txn under load, 1 CI run in 3); the
  // rest, the write that trips the alarm and every rejected write after it are Patroni's.
  FILLER_VALUE_BYTES: '900',
  FILLER_BATCH: '40',
  FILLER_FINE_BYTES: '131072',
  FILLER_FINE_BATCH: '4',
  HEADROOM_BYTES: '49152',
  LOOP_WAIT: '1',
  TTL: '10',
  RETRY_TIMEOUT: '3',
  AFTER_ALARM_SECONDS: '10',
  MAX_ALARM_WAIT_SECONDS: '170', // the quota must be reached in under 3 minutes, else the script fails
  FAILOVER_UNDER_NOSPACE: '0',
  DATEFORMAT_NODE: '0',
  SAMPLE_SECONDS: '2',
  RECOVERY_SECONDS: '4',
  RECOVERY_MAX_SECONDS: '60',
  SNAPSHOT_KEEP_BYTES: String(64 * 1024 * 1024), // always keep snapshot.bin.gz
  SCOPE,
  NAMESPACE: '/service',
  PG_BIN,
};

// ---------------------------------------------------------------------------------------------
// Prerequisites: fail (never skip) with what is missing.
function missingPrerequisites(): string[] {
  const missing: string[] = [];
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
  for (const [cmd, pkg] of [['etcd', 'etcd-server'], ['etcdctl', 'etcd-client'], ['patroni', 'patroni'], ['jq', 'jq'],
    ['python3', 'python3'], ['setpriv', 'util-linux'], ['psql', 'postgresql-client-15']] as const) {
    if (!has(cmd)) missing.push(`${cmd} (Debian package ${pkg})`);
  }
  if (!existsSync(join(PG_BIN, 'postgres'))) missing.push(`${PG_BIN}/postgres (Debian package postgresql-15; or set PG_BIN)`);
  if (spawnSync('id', ['postgres']).status !== 0) missing.push('the `postgres` user (PostgreSQL and Patroni run as it)');
  if (process.getuid?.() !== 0) missing.push('root (the capture runs PostgreSQL and Patroni as `postgres` through setpriv)');
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Processes: the capture's process group, anything naming its dirs, and their descendants.
interface Proc { pid: number; ppid: number; pgid: number; cmdline: string }

function procTable(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp …
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(name), ppid: Number(f[1]), pgid: Number(f[2]), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function captureProcesses(scriptPid: number, needles: string[]): Proc[] {
  const table = procTable().filter((p) => p.pid !== process.pid && p.cmdline !== '');
  const ours = new Set(table.filter((p) => p.pgid === scriptPid || needles.some((n) => p.cmdline.includes(n))).map((p) => p.pid));
  for (let grew = true; grew;) { // descendants (PostgreSQL backends under a postmaster, etcdctl under a sampler)
    grew = false;
    for (const p of table) if (!ours.has(p.pid) && ours.has(p.ppid)) { ours.add(p.pid); grew = true; }
  }
  return table.filter((p) => ours.has(p.pid));
}

/** Running (a zombie waiting for a reaper that may never come, in a container, counts as gone). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
const signal = (pid: number, sig: NodeJS.Signals): void => {
  try { process.kill(pid, sig); } catch { /* already gone */ }
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** For races against the capture's exit (its child handle keeps the process alive): a lost race leaves no timer behind. */
const sleepUnref = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Stops what is left of the capture, by PID: a fast shutdown for a postmaster, SIGTERM otherwise, SIGKILL after 15 s. */
async function stopLeftovers(scriptPid: number, needles: string[]): Promise<Proc[]> {
  const left = captureProcesses(scriptPid, needles);
  for (const p of left) signal(p.pid, / -D /.test(p.cmdline) && /\/postgres\b/.test(p.cmdline) ? 'SIGINT' : 'SIGTERM');
  for (let i = 0; i < 150 && left.some((p) => alive(p.pid)); i++) await sleep(100);
  for (const p of left) if (alive(p.pid)) signal(p.pid, 'SIGKILL');
  return left;
}

function stopLeftoversNow(scriptPid: number, needles: string[]): void {
  signal(-scriptPid, 'SIGKILL');
  for (const p of captureProcesses(scriptPid, needles)) signal(p.pid, 'SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// Truth read straight from the capture's files.

/** Patroni's key groups as an operator would name them: members/<name> collapsed, every other key alone. */
const truthGroup = (key: string): string => (key.startsWith(`${PREFIX}members/`) ? `${PREFIX}members/*` : key);

/** The time of the etcd zap log's own `alarm raised` line. */
function alarmLine(file: string): { ms: number; line: string } {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes('"msg":"alarm raised"') && l.includes('NOSPACE'));
  assert.ok(line, `no NOSPACE "alarm raised" line in ${file}`);
  const ts = (JSON.parse(line) as { ts: string }).ts.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  return { ms: Date.parse(ts), line };
}

/** The body after the `date -Is` marker line of one of the script's timestamped outputs. */
function afterMarker(file: string): { at: number; body: string } {
  const text = readFileSync(file, 'utf8');
  const nl = text.indexOf('\n');
  return { at: Date.parse(text.slice(0, nl)), body: text.slice(nl + 1) };
}

/**
 * What compaction + defragmentation guarantee, per member, from the runbook's own etcdctl outputs: the
 * physical size after the defrags (07, a table; NOSPACE still refuses writes then) is not above the
 * physical size before the compaction (01, JSON), and after the disarm (11, JSON) the in-use size is not
 * above the physical size nor above the in-use size before the compaction (the filler rewrites the same
 * /filler/N keys, so the compaction frees its old revisions). Not a ratio: under load one member went
 * 3,145,728 -> 1,748,992 B, which is what the defrag promised but not "half".
 */
function assertDefragGuarantees(recoveryDir: string): void {
  type Status = { Endpoint: string; Status: { dbSize: number; dbSizeInUse: number } };
  // Steps are numbered in the order they ran (one defrag per member), so a run with fewer members shifts
  // the numbers: find each output by its name.
  const step = (name: string): string => {
    const f = readdirSync(recoveryDir).find((x) => new RegExp(`^\\d\\d-${name}\\.txt$`).test(x));
    assert.ok(f, `recovery/NN-${name}.txt in ${recoveryDir}`);
    return join(recoveryDir, f);
  };
  const json = (name: string) => new Map((JSON.parse(afterMarker(step(name)).body) as Status[]).map((e) => [e.Endpoint, e.Status]));
  const before = json('endpoint-status-json');
  const afterDisarm = json('endpoint-status-after-disarm');
  const rows = afterMarker(step('endpoint-status-after-defrag')).body.split('\n').map((r) => r.split('|').map((c) => c.trim()));
  const header = rows.find((r) => r.includes('DB SIZE'));
  assert.ok(header, 'the after-defrag table has a DB SIZE column');
  const [epCol, sizeCol] = [header.indexOf('ENDPOINT'), header.indexOf('DB SIZE')];
  const afterDefrag = new Map(rows.filter((r) => /^https?:\/\//.test(r[epCol] ?? '')).map((r) => [r[epCol]!, r[sizeCol]!]));
  assert.deepEqual([...afterDefrag.keys()].sort(), [...before.keys()].sort(), 'the same members before the compaction and after the defrags');
  for (const [endpoint, b] of before) {
    const shown = afterDefrag.get(endpoint)!;
    assert.ok(humanizedLowerBound(shown) <= b.dbSize, `${endpoint}: DB size after the defrag ${shown} is above the ${b.dbSize} B before the compaction`);
    const d = afterDisarm.get(endpoint);
    assert.ok(d, `${endpoint} in the status after the disarm`);
    assert.ok(d.dbSizeInUse <= d.dbSize, `${endpoint}: after the disarm ${d.dbSizeInUse} B in use of ${d.dbSize} B`);
    assert.ok(d.dbSizeInUse <= b.dbSizeInUse, `${endpoint}: in use after the compaction ${d.dbSizeInUse} B, before it ${b.dbSizeInUse} B`);
  }
}

/** The least byte count etcdctl's table (go-humanize Bytes: base 1000, "%.1f" below 10, else "%.0f") shows as `text`. */
function humanizedLowerBound(text: string): number {
  const m = /^(\d+(?:\.(\d))?) (B|kB|MB|GB|TB)$/.exec(text);
  assert.ok(m, `a go-humanize size: ${JSON.stringify(text)}`);
  const scale = 1000 ** ['B', 'kB', 'MB', 'GB', 'TB'].indexOf(m[3]!);
  const half = m[3] === 'B' ? 0 : (m[2] === undefined ? 0.5 : 0.05);
  return (Number(m[1]) - half) * scale;
}

/** One Patroni log record: its head line and the indented/traceback lines after it. */
function patroniRecord(file: string, line: number): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = [lines[line - 1]!];
  for (let i = line; i < lines.length && !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(lines[i]!); i++) out.push(lines[i]!);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
async function runCapture(outDir: string, logFile: string, t: { diagnostic: (m: string) => void }) {
  const fd = openSync(logFile, 'a');
  const child = spawn('bash', [SCRIPT], {
    cwd: ROOT, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...CAPTURE_ENV, OUT_DIR: outDir },
  });
  closeSync(fd);
  const pid = child.pid!;
  const needles = (): string[] => {
    const work = /work dir (\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
    return [outDir, ...(work ? [work] : [])];
  };
  // If this test process is interrupted, the capture goes with it.
  const onSignal = (sig: NodeJS.Signals) => {
    stopLeftoversNow(pid, needles());
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => stopLeftoversNow(pid, needles());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? `signal ${sig}`)));
  let timedOut = false;
  let code: number | string = '';
  let leftovers: Proc[] = [];
  try {
    const first = await Promise.race([exited, sleepUnref(CAPTURE_DEADLINE_MS).then(() => 'deadline' as const)]);
    if (first === 'deadline') {
      timedOut = true;
      signal(-pid, 'SIGTERM'); // the script's trap then stops what it started, by PID
      const grace = await Promise.race([exited, sleepUnref(60_000).then(() => 'grace' as const)]);
      if (grace === 'grace') signal(-pid, 'SIGKILL');
      code = await exited;
    } else {
      code = first;
    }
  } finally {
    leftovers = await stopLeftovers(pid, needles());
    for (const w of needles().slice(1)) rmSync(w, { recursive: true, force: true }); // the work dir, if the trap could not
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', onExit);
    if (leftovers.length > 0) t.diagnostic(`stopped ${leftovers.length} leftover process(es): ${leftovers.map((p) => `${p.pid} ${p.cmdline.slice(0, 80)}`).join('; ')}`);
  }
  return { code, timedOut, leftovers };
}

test('e2e: a reduced real Patroni + etcd NOSPACE capture, ingested and analysed, agrees with the capture\'s own truth',
  { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const missing = missingPrerequisites();
    assert.deepEqual(missing, [], `the end-to-end capture needs: ${missing.join(', ')}`);

    const { dir, cleanup } = tempDir('ef-e2e-patroni-');
    const out = join(dir, 'out');
    const logFile = join(dir, 'capture.log');
    let passed = false;
    try {
      // --- the capture
      const t0 = Date.now();
      const cap = await runCapture(out, logFile, t);
      const captureMs = Date.now() - t0;
      const tail = () => readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
      assert.ok(!cap.timedOut, `the capture did not finish in ${CAPTURE_DEADLINE_MS / 1000} s and was killed; its log ends:\n${tail()}`);
      assert.equal(cap.code, 0, `the capture failed (exit ${cap.code}); its log ends:\n${tail()}`);
      assert.deepEqual(cap.leftovers.map((p) => p.cmdline), [], 'the script stopped everything it started');
      t.diagnostic(`capture: ${(captureMs / 1000).toFixed(1)} s`);

      // --- what the capture recorded
      const etcdLog = join(out, 'etcd', 'etcd1.log');
      const patroniLog = join(out, 'patroni', 'pg1', 'patroni.log');
      const snapshotGz = join(out, 'snapshot.bin.gz');
      for (const f of [etcdLog, patroniLog, snapshotGz, join(out, 'watch-service.jsonl'), join(out, 'snapshot-status.json.txt')]) {
        assert.ok(existsSync(f), `the capture wrote ${f}`);
      }
      const alarm = alarmLine(etcdLog);
      const snapRev = (JSON.parse(afterMarker(join(out, 'snapshot-status.json.txt')).body) as { revision: number }).revision;
      const firstSampleMs = afterMarker(join(out, 'samples', 'endpoint-status.json.txt')).at;
      // Patroni's own writes hit the quota: the filler stopped on its own, below the quota, before the alarm.
      const filler = readFileSync(join(out, 'filler.log'), 'utf8');
      const fillerStop = /^(\S+) filler stopped at dbSize (\d+) after (\d+) puts$/m.exec(filler);
      assert.ok(fillerStop, `the filler stopped below the quota by itself (filler.log: ${filler.trim()})`);
      assert.doesNotMatch(filler, /space exceeded/, 'no filler write was rejected');
      assert.ok(Number(fillerStop[2]) < QUOTA_BYTES && Date.parse(fillerStop[1]!) < alarm.ms, filler);
      assert.ok(alarm.ms - firstSampleMs < 180_000, `quota reached ${(alarm.ms - firstSampleMs) / 1000} s after the start`);

      // --- ingest with the built CLI
      const db = join(dir, 's.db');
      const recovery = readdirSync(join(out, 'recovery')).filter((f) => /^\d\d-.*\.txt$/.test(f)).sort()
        .map((f) => join(out, 'recovery', f))
        .filter((f) => afterMarker(f).body.trim() !== ''); // `alarm list` after the disarm prints nothing: no input
      const inputs = [etcdLog, patroniLog, ...readdirSync(join(out, 'samples')).sort().map((f) => join(out, 'samples', f)),
        ...recovery, join(out, 'snapshot-status.json.txt'), snapshotGz];
      const ing = runCli(['ingest', '--db', db, '--tz', 'UTC', ...inputs]);
      assert.equal(ing.code, 0, ing.stdout + ing.stderr);
      assert.match(ing.stdout, /snapshot\.bin\.gz: etcd-snapshot, \d+ revisions of \d+ keys/);

      const json = <T>(args: string[]): T => {
        const r = runCli([...args, '--db', db, '--json']);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        return JSON.parse(r.stdout) as T;
      };
      const report = json<AnalysisReport>(['analyze']);
      const churn = json<Pick<AnalysisReport, 'churn'>>(['churn']).churn;
      const timeline = json<Pick<AnalysisReport, 'timeline'>>(['timeline']).timeline;
      const at = (e: TimelineEntry) => (e.at === null ? Number.NaN : Date.parse(e.at));

      // (1) churn from the snapshot taken before the recovery equals the watch truth, key by key
      const truth = watchTruth(join(out, 'watch-service.jsonl'), snapRev, PREFIX);
      assert.equal(churn.evidence[0]?.source, 'snapshot');
      assert.equal(churn.evidence[0]?.completeness, 'exact');
      assert.ok(report.snapshots.some((s) => s.revision === snapRev && s.source.includes('snapshot.bin.gz')), 'the snapshot read at the revision etcdctl printed');
      const ours = new Map(churn.keys.filter((k) => k.key.startsWith(PREFIX)).map((k) => [k.key, k.revisions]));
      assert.deepEqual([...ours.keys()].sort(), [...truth.keys()].sort(), 'the same Patroni keys');
      for (const [key, n] of truth) assert.equal(ours.get(key), n, `revisions of ${key}`);
      const truthGroups = new Map<string, number>();
      for (const [key, n] of truth) truthGroups.set(truthGroup(key), (truthGroups.get(truthGroup(key)) ?? 0) + n);
      const maxGroup = Math.max(...truthGroups.values());
      const truthTop = [...truthGroups].filter(([, n]) => n === maxGroup).map(([g]) => g);
      assert.ok(truthTop.every((g) => g === `${PREFIX}members/*` || g === `${PREFIX}status`), `truth's top Patroni group: ${truthTop.join(', ')}`);
      const patroniGroups = churn.groups.filter((g) => g.group.startsWith(PREFIX));
      for (const g of patroniGroups) assert.equal(g.revisions, truthGroups.get(g.group), `revisions of group ${g.group}`);
      assert.ok(truthTop.some((g) => g === patroniGroups[0]!.group), `top Patroni group ${patroniGroups[0]!.group}, truth ${truthTop.join(' = ')}`);

      // (2) the NOSPACE time is the etcd log's `alarm raised` line, to the second
      assert.ok(report.incident.nospaceAt, 'nospaceAt');
      assert.ok(Math.abs(Date.parse(report.incident.nospaceAt) - alarm.ms) < 1000, `nospaceAt ${report.incident.nospaceAt} vs ${alarm.line}`);

      // (3) the first Patroni DCS error comes after the alarm (minus 1 s) and names the write that failed
      const nospaceEntries = timeline.filter((e) => e.kind === 'patroni.nospace');
      assert.ok(nospaceEntries.length > 0, 'patroni.nospace in the timeline');
      const firstErr = nospaceEntries[0]!;
      assert.ok(report.incident.firstDcsErrorAt, 'firstDcsErrorAt');
      const firstDcsMs = Date.parse(report.incident.firstDcsErrorAt);
      assert.ok(firstDcsMs >= alarm.ms - 1000, `first DCS error ${report.incident.firstDcsErrorAt} vs alarm ${new Date(alarm.ms).toISOString()}`);
      assert.equal(at(firstErr), firstDcsMs, 'the first Patroni DCS error is a NOSPACE one');
      const [srcPath, srcLine] = [firstErr.source.slice(0, firstErr.source.lastIndexOf(':')), Number(firstErr.source.slice(firstErr.source.lastIndexOf(':') + 1))];
      assert.equal(srcPath, patroniLog);
      const record = patroniRecord(patroniLog, srcLine);
      const writeInLog = /, in (_write_status|touch_member)\n/.exec(record)?.[1];
      assert.ok(writeInLog, `the first NOSPACE record names _write_status or touch_member:\n${record}`);
      const stored = JSON.parse(runCli(['query', '--db', db, '--json',
        "SELECT detail FROM events WHERE kind = 'patroni.nospace' ORDER BY ts_ms, line LIMIT 1"]).stdout) as { detail: string }[];
      assert.equal((JSON.parse(stored[0]!.detail) as { write: string | null }).write, writeInLog, 'the stored failed write');
      // The burst's summary splits its count by the call that failed (timeline.ts burstSummary, e.g.
      // "340 × Patroni writes failed: database space exceeded on pg1, pg2, pg3: 170 touch_member, …, 40 _write_status"):
      // the write of its first traceback is among them, with a count.
      assert.match(firstErr.summary, /^[\d,]+ × Patroni writes failed: database space exceeded/);
      assert.match(firstErr.summary, new RegExp(`[:,] [1-9][\\d,]* ${writeInLog}(,|$)`));

      // (4) after the recovery: compaction, defragmentation, disarm, the DB shrinks, Patroni recovers
      const first = (kind: string) => timeline.find((e) => e.kind === kind);
      const compact = first('etcdctl.compact');
      const defrag = first('etcd.defrag.finished') ?? first('etcdctl.defrag');
      const raised = first('etcd.alarm.raised');
      assert.ok(compact && defrag && raised, `compact, defrag and alarm in the timeline: ${timeline.map((e) => e.kind).join(' ')}`);
      const disarmed = timeline.find((e) => e.kind === 'etcd.alarm.disarmed' && at(e) >= at(raised));
      assert.ok(disarmed, 'etcd.alarm.disarmed after the alarm');
      const compactRev = Number(/compacted revision (\d+)/.exec(afterMarker(join(out, 'recovery', '03-compact.txt')).body)?.[1]);
      assert.match(compact.summary, new RegExp(`compact ${compactRev}\\b`));
      // etcdctl outputs carry the second of the `date -Is` taken before the command
      assert.ok(at(raised) < at(compact) + 1000 && at(compact) <= at(defrag) + 1000 && at(defrag) <= at(disarmed) + 1000,
        `alarm ${raised.at} → compact ${compact.at} → defrag ${defrag.at} → disarm ${disarmed.at}`);
      assert.ok(report.growth.members.length >= 1, 'DB size series');
      assertDefragGuarantees(join(out, 'recovery'));
      const recovered = timeline.find((e) => e.kind === 'patroni.recovered');
      assert.ok(recovered && at(recovered) > at(disarmed), `patroni.recovered after the disarm (${disarmed.at}): ${recovered?.at}`);

      const members = report.growth.members.map((m) => {
        const s = m.points.map((p) => p.dbSizeBytes ?? 0);
        return `${m.member}: ${m.samples} samples, max ${Math.max(...s)} B → last ${s[s.length - 1]} B`;
      });
      for (const line of [
        `alarm raised ${new Date(alarm.ms).toISOString()} (${((alarm.ms - firstSampleMs) / 1000).toFixed(0)} s after the first sample); nospaceAt ${report.incident.nospaceAt}`,
        `filler stopped ${fillerStop[1]} at ${fillerStop[2]} B after ${fillerStop[3]} puts (quota ${QUOTA_BYTES})`,
        `snapshot revision ${snapRev}; revisionAtNospace ${report.incident.revisionAtNospace}; compact ${compactRev}`,
        `Patroni keys (snapshot = watch): ${[...truth].map(([k, n]) => `${k.slice(PREFIX.length)}=${n}`).join(', ')}; top ${patroniGroups[0]!.group}`,
        `first DCS error ${report.incident.firstDcsErrorAt} (${writeInLog}); ${nospaceEntries.reduce((a, e) => a + e.count, 0)} Patroni NOSPACE records`,
        `disarm ${disarmed.at}; patroni.recovered ${recovered.at}; ${members.join('; ')}`,
      ]) t.diagnostic(line);
      passed = true;
    } finally {
      if (passed || process.env['CI']) cleanup();
      else t.diagnostic(`kept ${dir} (capture log, OUT_DIR, store) for inspection`);
    }
  });
