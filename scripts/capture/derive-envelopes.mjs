#!/usr/bin/env node
// Derive wrapped (enveloped) forms of REAL captured log lines into test/fixtures/envelope-derived/.
// Nothing inside a wrapper is invented: the inner lines are verbatim lines of
//   test/fixtures/etcd-3.4/etcd-zap.log        (etcd1, zap, the excerpt kept in ../etcd-3.4-journald/)
//   test/fixtures/etcd-3.4/etcd-capnslog.log   (etcd2, capnslog, the same time windows)
//   test/fixtures/patroni-3.0.2/pg1/patroni.log (pg1, two windows: NOSPACE tracebacks, a tab-separated line)
// and each wrapper applies its documented format (cited per function and in the fixture README).
// journald forms are not written by this script: it writes the journal export stream
// (systemd docs/JOURNAL_EXPORT_FORMATS.md), has systemd-journal-remote (systemd 252) store it in a journal
// file, and lets the real `journalctl --file … -o <mode>` print every output mode (locales compiled from
// glibc's /usr/share/i18n/locales with localedef).
//
//   node scripts/capture/derive-envelopes.mjs            (needs systemd-journal-remote, journalctl, localedef)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIX = join(REPO, 'test', 'fixtures');
const OUT = join(FIX, 'envelope-derived');
const meta = Object.fromEntries(readFileSync(join(FIX, 'etcd-3.4', 'capture-meta.env'), 'utf8')
  .split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const SHANGHAI_MIN = 480; // capture-meta TZ=Asia/Shanghai (no DST)

// ---- the real inner lines, each with its own instant (µs since the epoch, UTC) -------------------------
const readLines = (p) => readFileSync(p, 'utf8').replace(/\n$/, '').split('\n');
const localUs = (ymd, hms, frac, offMin) => {
  const [y, mo, d] = ymd.split('-').map(Number);
  const [h, mi, s] = hms.split(':').map(Number);
  const f = (frac ?? '').padEnd(6, '0').slice(0, 6);
  return (Date.UTC(y, mo - 1, d, h, mi, s) - offMin * 60_000) * 1000 + Number(f);
};

/** zap lines exactly as kept in the journald excerpt (the prefix taken off again); time = "ts". */
function zapLines() {
  return readLines(join(FIX, 'etcd-3.4-journald', 'etcd-zap.journald.log')).map((l) => {
    const text = l.slice(l.indexOf(': ') + 2);
    const m = /"ts":"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)\.(\d+)\+0800"/.exec(text);
    if (m) return { text, us: localUs(m[1], m[2], m[3], SHANGHAI_MIN) };
    // grpc-go's logger on the same stderr: `WARNING: 2026/11/24 07:28:58 [core] …`
    const g = /^[A-Z]+: (\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d) /.exec(text);
    return { text, us: localUs(`${g[1]}-${g[2]}-${g[3]}`, g[4], '', SHANGHAI_MIN) };
  });
}

/** capnslog lines of the same windows as the journald excerpt (derive-journald.sh); untimed lines take the previous time. */
function capnslogLines() {
  const wall = (iso, ds) => new Date(Date.parse(iso) + ds * 1000 + SHANGHAI_MIN * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  const [aFrom, aTo] = [wall(meta.ALARM_SEEN, -3), wall(meta.ALARM_SEEN, 3)];
  const [rFrom, rTo] = [wall(meta.RECOVERY_START, -1), wall(meta.RECOVERED, 2)];
  const out = [];
  let t = null;
  let us = null;
  readLines(join(FIX, 'etcd-3.4', 'etcd-capnslog.log')).forEach((text, i) => {
    const c = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d+) /.exec(text);
    const r = /^(?:raft ?|WARNING: |INFO: |ERROR: )?(\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d)/.exec(text);
    if (c) [t, us] = [`${c[1]} ${c[2]}`, localUs(c[1], c[2], c[3], SHANGHAI_MIN)];
    else if (r) [t, us] = [`${r[1]}-${r[2]}-${r[3]} ${r[4]}`, localUs(`${r[1]}-${r[2]}-${r[3]}`, r[4], '', SHANGHAI_MIN)];
    if (t === null) return;
    if (i < 26 || (t >= aFrom && t <= aTo) || (t >= rFrom && t <= rTo)) out.push({ text, us });
  });
  return out;
}

/** pg1's Patroni log (host zone UTC, README of patroni-3.0.2): start-up, the NOSPACE tracebacks, the pg_rewind checks. */
function patroniLines() {
  const out = [];
  let t = null;
  let us = null;
  for (const text of readLines(join(FIX, 'patroni-3.0.2', 'pg1', 'patroni.log'))) {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) /.exec(text);
    if (m) [t, us] = [m[2], localUs(m[1], m[2], m[3], 0)];
    if (t !== null && (t < '23:53:06' || (t >= '23:54:57' && t < '23:55:01') || (t >= '23:56:28' && t < '23:56:29'))) out.push({ text, us });
  }
  return out;
}

// ---- time formats ------------------------------------------------------------------------------------
const pad = (n, w = 2) => String(n).padStart(w, '0');
/** Go time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, `Z`. */
function rfc3339Nano(us) {
  const d = new Date(Math.floor(us / 1000));
  const frac = `${pad(((us % 1_000_000) + 1_000_000) % 1_000_000, 6)}000`.replace(/0+$/, '');
  return `${d.toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}
/** kubelet's timeFormatOut "2006-01-02T15:04:05.000000000Z07:00" (always 9 digits). */
const fixedNano = (us) => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${pad(us % 1_000_000, 6)}000Z`;
/** rsyslog date-rfc3339 in the sender's zone: `2026-11-24T07:28:37.938000+08:00` (µs, with colon). */
function rfc3339Local(us, offMin) {
  const d = new Date(Math.floor(us / 1000) + offMin * 60_000);
  const sign = offMin >= 0 ? '+' : '-';
  return `${d.toISOString().slice(0, 19)}.${pad(us % 1_000_000, 6)}${sign}${pad(Math.floor(Math.abs(offMin) / 60))}:${pad(Math.abs(offMin) % 60)}`;
}
/** BSD syslog / rsyslog RSYSLOG_TraditionalFileFormat `Nov 24 07:28:37` (day space-padded, RFC 3164 §4.1.2). */
function bsdStamp(us, offMin) {
  const d = new Date(Math.floor(us / 1000) + offMin * 60_000);
  const mon = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')[d.getUTCMonth()];
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
}

// ---- wrappers ----------------------------------------------------------------------------------------
/**
 * Kubernetes CRI log (containerd pkg/cri/io/logger.go, kubelet pkg/kubelet/kuberuntime/logs/logs.go):
 * `<RFC3339Nano> <stream> <P|F> <content>`; a line longer than max_container_log_line_size is cut into P
 * parts and an F part. `maxLine` is that containerd setting (default 16384; a smaller value is allowed).
 */
function cri(lines, stream, maxLine = 16384) {
  const out = [];
  for (const { text, us } of lines) {
    const ts = rfc3339Nano(us);
    let rest = Buffer.from(text);
    while (rest.length > maxLine) {
      // containerd cuts bytes; cut at a character boundary so the fixture stays valid UTF-8
      let cut = maxLine;
      while (cut > 0 && (rest[cut] & 0xc0) === 0x80) cut--;
      out.push(`${ts} ${stream} P ${rest.subarray(0, cut).toString()}`);
      rest = rest.subarray(cut);
    }
    out.push(`${ts} ${stream} F ${rest.toString()}`);
  }
  return out;
}

/** moby jsonfilelog (jsonlog.JSONLogs.MarshalJSONBuf): log (with its newline), stream, time (RFC3339Nano, UTC); <>& escaped. */
function dockerJson(lines, stream) {
  const esc = (s) => JSON.stringify(s).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return lines.map(({ text, us }) => `{"log":${esc(`${text}\n`)},"stream":${esc(stream)},"time":"${rfc3339Nano(us)}"}`);
}

/** `kubectl logs --timestamps`: kubelet writes timeFormatOut + " " + the (joined) line. */
const kubectlTimestamps = (lines) => lines.map(({ text, us }) => `${fixedNano(us)} ${text}`);

/** RFC 5424 §6 as rsyslog's RSYSLOG_SyslogProtocol23Format writes it: `<PRI>1 TS HOST APP PROCID MSGID SD MSG`. */
const rfc5424 = (lines, pri, host, app, pid) =>
  lines.map(({ text, us }) => `${pri === null ? '' : `<${pri}>`}1 ${rfc3339Local(us, SHANGHAI_MIN)} ${host} ${app} ${pid} - - ${text}`);

/** rsyslog RSYSLOG_FileFormat: `%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag%%msg:::sp-if-no-1st-sp%…`. */
const rsyslogFile = (lines, host, tag, pid) => lines.map(({ text, us }) => `${rfc3339Local(us, SHANGHAI_MIN)} ${host} ${tag}[${pid}]: ${text}`);

/** rsyslog RSYSLOG_TraditionalFileFormat: `%TIMESTAMP% %HOSTNAME% %syslogtag%%msg…%` (BSD time). */
const rsyslogTraditional = (lines, host, tag, pid, offMin) => lines.map(({ text, us }) => `${bsdStamp(us, offMin)} ${host} ${tag}[${pid}]: ${text}`);

const prefixed = (lines, prefix) => lines.map(({ text }) => `${prefix}${text}`);

// ---- journald: export stream → systemd-journal-remote → journalctl ------------------------------------
const BOOT = '5d2c7f2a9b1e4c0f8a3b6d9e1f2a3b4c';
function exportStream(entries) {
  const parts = [];
  let mono = 1_000_000;
  for (const e of entries) {
    const fields = [['__REALTIME_TIMESTAMP', String(e.us)], ['__MONOTONIC_TIMESTAMP', String(mono++)], ['_BOOT_ID', BOOT],
      ['_TRANSPORT', e.transport], ['PRIORITY', e.priority], ['SYSLOG_FACILITY', '3'], ['SYSLOG_IDENTIFIER', e.tag],
      ['_PID', String(e.pid)], ['_COMM', e.tag], ['_HOSTNAME', e.host], ['_SYSTEMD_UNIT', `${e.tag}.service`],
      ...(e.extra ?? []), ['MESSAGE', e.text]];
    for (const [k, v] of fields) {
      // JOURNAL_EXPORT_FORMATS.md: a value that is not printable text goes as name, LE uint64 size, bytes, newline.
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(v)) {
        const b = Buffer.from(v);
        const n = Buffer.alloc(8);
        n.writeBigUInt64LE(BigInt(b.length));
        parts.push(Buffer.from(`${k}\n`), n, b, Buffer.from('\n'));
      } else parts.push(Buffer.from(`${k}=${v}\n`));
    }
    parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** capnslog under systemd: its journald formatter sends the message only (level → PRIORITY, package → PACKAGE). */
function capnslogJournalEntries() {
  const prio = { C: '2', E: '3', W: '4', N: '5', I: '6', D: '7', T: '7' };
  return capnslogLines().map(({ text, us }) => {
    const m = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ([CEWNIDT]) \| ([A-Za-z0-9_/.-]+): (.*)$/.exec(text);
    return m
      ? { us, text: m[3], host: 'etcd2', tag: 'etcd', pid: Number(meta.ETCD2_PID), transport: 'journal', priority: prio[m[1]], extra: [['PACKAGE', m[2]]] }
      : { us, text, host: 'etcd2', tag: 'etcd', pid: Number(meta.ETCD2_PID), transport: 'stdout', priority: '6' };
  });
}

function journald(dir) {
  const tmp = mkdtempSync(join(tmpdir(), 'derive-envelopes-'));
  try {
    const entries = [
      ...zapLines().map(({ text, us }) => ({ us, text, host: 'etcd1', tag: 'etcd', pid: Number(meta.ETCD1_PID), transport: 'stdout', priority: '6' })),
      ...capnslogJournalEntries(),
      ...patroniLines().map(({ text, us }) => ({ us, text, host: 'pg1', tag: 'patroni', pid: 5152, transport: 'stdout', priority: '6' })),
    ].sort((a, b) => a.us - b.us);
    writeFileSync(join(tmp, 'in.export'), exportStream(entries));
    const journal = join(tmp, 'envelopes.journal');
    execFileSync('/lib/systemd/systemd-journal-remote', [`--output=${journal}`, join(tmp, 'in.export')], { stdio: 'ignore' });
    const loc = join(tmp, 'locales');
    mkdirSync(loc);
    const jctl = (mode, match, locale = 'C.UTF-8') => execFileSync('journalctl', ['--file', journal, '-o', mode, '--no-pager', ...match], {
      env: { ...process.env, TZ: meta.TZ, LC_ALL: locale, LOCPATH: locale === 'C.UTF-8' ? '' : loc, SYSTEMD_COLORS: '0' },
      maxBuffer: 64 << 20,
    });
    const etcd1 = ['_HOSTNAME=etcd1'];
    const etcd2 = ['_HOSTNAME=etcd2'];
    const pg1 = ['_HOSTNAME=pg1'];
    const files = {
      'etcd-zap.journal.json': jctl('json', etcd1),
      'etcd-zap.journal.export': jctl('export', etcd1),
      'etcd-zap.journal.short-iso-precise.log': jctl('short-iso-precise', etcd1),
      'etcd-capnslog.journal.json': jctl('json', etcd2),
      'etcd-capnslog.journal.json-pretty': jctl('json-pretty', etcd2),
      'etcd-capnslog.journal.short-precise.log': jctl('short-precise', etcd2),
      'etcd-capnslog.journal.short-iso.log': jctl('short-iso', etcd2),
      'etcd-capnslog.journal.cat.log': jctl('cat', etcd2),
      'patroni-pg1.journal.json': jctl('json', pg1),
      'patroni-pg1.journal.export': jctl('export', pg1),
    };
    for (const l of ['de_DE', 'fr_FR', 'es_ES', 'ru_RU', 'zh_CN']) {
      execFileSync('localedef', ['-i', l, '-f', 'UTF-8', join(loc, `${l}.UTF-8`)], { stdio: 'ignore' });
      files[`etcd-capnslog.journal.short.${l}.log`] = jctl('short', etcd2, `${l}.UTF-8`);
    }
    for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- write ----------------------------------------------------------------------------------------------
const write = (sub, name, lines) => {
  mkdirSync(join(OUT, sub), { recursive: true });
  writeFileSync(join(OUT, sub, name), `${lines.join('\n')}\n`);
};
const zap = zapLines();
const capn = capnslogLines();
const pat = patroniLines();
write('cri', 'etcd-zap.cri.log', cri(zap, 'stderr', 512));
write('cri', 'etcd-capnslog.cri.log', cri(capn, 'stderr'));
write('docker', 'etcd-zap.docker-json.log', dockerJson(zap, 'stderr'));
write('docker', 'patroni-pg1.docker-json.log', dockerJson(pat, 'stderr'));
write('kubectl', 'etcd-capnslog.kubectl-timestamps.log', kubectlTimestamps(capn));
write('kubectl', 'patroni-pg1.kubectl-timestamps.log', kubectlTimestamps(pat));
write('rsyslog', 'etcd-zap.rfc5424.log', rfc5424(zap, 30, 'etcd1', 'etcd', meta.ETCD1_PID));
write('rsyslog', 'etcd-capnslog.rfc5424-nopri.log', rfc5424(capn, null, 'etcd2', 'etcd', meta.ETCD2_PID));
write('rsyslog', 'etcd-zap.rfc3339.log', rsyslogFile(zap, 'etcd1', 'etcd', meta.ETCD1_PID));
write('rsyslog', 'patroni-pg1.traditional.log', rsyslogTraditional(pat, 'pg1', 'patroni', 5152, 0));
write('shipper', 'etcd-zap.fluentd-tag.log', prefixed(zap, '[fluentd] '));
write('shipper', 'etcd-capnslog.kube-prefix.log', prefixed(capn, 'kube-system/etcd-master-1: '));
write('shipper', 'patroni-pg1.compose.log', prefixed(pat, 'pg1-1  | '));
mkdirSync(join(OUT, 'journald'), { recursive: true });
journald(join(OUT, 'journald'));
console.log(`wrote ${OUT}`);
