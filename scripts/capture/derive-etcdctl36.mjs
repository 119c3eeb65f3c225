#!/usr/bin/env node
// Derives etcdctl/etcdutl 3.6 output forms from the REAL etcd 3.5.16 capture (test/fixtures/etcd-3.5.16/):
// no etcd 3.6 binary runs here. The values are the capture's; only the printers change, applied as
// release-3.6 writes them (etcd-io/etcd release-3.6, commit b622889a5a51):
//   endpoint status  etcdctl/ctlv3/command/printer.go:221 makeEndpointStatusTable (table: printer_table.go:49,
//                    simple: printer_simple.go:165 joins each row with ", "), printer_fields.go:192 EndpointStatus
//                    with hdr() at :44 (Revision printed only when > 0), printer_json.go:40 → printJSON (encoding/json
//                    of api/etcdserverpb StatusResponse: storageVersion, dbSizeQuota, downgradeInfo are omitempty).
//   snapshot status  etcdutl/etcdutl/printer.go:68 makeDBStatusTable (VERSION column), printer_fields.go:25 DBStatus
//                    ("Version" line), etcdutl/snapshot/v3_snapshot.go:106 Status (json "version", no omitempty) and
//                    :129-197 TOTAL KEYS = distinct user keys whose latest row is not a tombstone.
// Two server answers are rendered:
//   *.36-client-35-server.*  a 3.6 etcdctl asking the real 3.5.16 members: the new fields are empty (StorageVersion
//                            "", DbSizeQuota 0, no DowngradeInfo) because a 3.5 server does not send them.
//   *.36-quota.*             the same answer with dbSizeQuota = the capture's real --quota-backend-bytes (262144, from
//                            capture-meta.env), as a 3.6.6+ server reports a configured quota
//                            (server/etcdserver/api/v3rpc/maintenance.go, commit 4973fd42f). Nothing else changes.
//   snapshot-status-nospace.36.*  etcdutl 3.6 on the real snapshot-nospace.db: hash, revision and size as 3.5.16's
//                            etcdutl printed them (3.6 computes them the same way); TOTAL KEYS recounted from the file
//                            with 3.6's rule (src/sources/bbolt reader: keys whose latest revision is not a tombstone);
//                            VERSION "" because a 3.5 snapshot's meta bucket has no storageVersion key.
// tablewriter is v0.0.5 on release-3.6 (etcdctl/go.mod): borders `+---+`, headers upper-cased and centred, cells
// right-aligned (SetAlignment(ALIGN_RIGHT)), cells wider than 30 characters wrapped at spaces onto extra rows.
// Usage: node --import tsx scripts/capture/derive-etcdctl36.mjs   (from the repository root)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, isLosslessNumber } from 'lossless-json';
import { readEtcdBackend } from '../../src/sources/bbolt/index.ts';

const SRC = 'test/fixtures/etcd-3.5.16';
const OUT = 'test/fixtures/etcdctl-derived';
mkdirSync(OUT, { recursive: true });
const meta = Object.fromEntries(readFileSync(`${SRC}/capture-meta.env`, 'utf8').split('\n')
  .filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const QUOTA = BigInt(meta.QUOTA_BYTES);

// ---- go-humanize Bytes (SI, as etcdctl prints DB SIZE) ----------------------------------------------
function humanizeBytes(n) {
  const v = Number(n);
  if (v < 10) return `${v} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(v) / Math.log(1000));
  const val = Math.floor((v / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${sizes[e]}`;
}

// ---- tablewriter v0.0.5 -----------------------------------------------------------------------------
function wrap(cell, lim = 30) {
  if (cell.length <= lim) return [cell];
  const words = cell.split(' ');
  const lines = [];
  let cur = '';
  for (const w of words) {
    if (cur === '') cur = w;
    else if (cur.length + 1 + w.length <= lim) cur += ` ${w}`;
    else { lines.push(cur); cur = w; }
  }
  lines.push(cur);
  return lines;
}
function renderTable(header, rows) {
  const head = header.map((h) => h.replaceAll('_', ' ').toUpperCase());
  const cells = rows.map((r) => r.map((c) => wrap(c)));
  // parseDimension: a wrapped cell counts as the wrap width (30) even when its lines are shorter.
  const cellWidth = (c, lines) => Math.max(Math.min(c.length, 30), ...lines.map((l) => l.length));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r, j) => cellWidth(r[i], cells[j][i]))));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const centre = (s, w) => { const gap = w - s.length; const l = Math.floor(gap / 2); return ' '.repeat(l) + s + ' '.repeat(gap - l); };
  const out = [border, `|${head.map((h, i) => ` ${centre(h, widths[i])} `).join('|')}|`, border];
  for (const r of cells) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(`|${r.map((c, i) => ` ${(c[k] ?? '').padStart(widths[i])} `).join('|')}|`);
  }
  out.push(border);
  return `${out.join('\n')}\n`;
}

// The renderer must reproduce real tablewriter v0.0.5 output byte for byte: re-render 3.5.16's own
// status and snapshot tables from their cells (continuation rows joined back with a space).
for (const f of ['endpoint-status.table.txt', 'recovery-10-endpoint-status.table.txt', 'etcdutl-snapshot-status-nospace.table.txt', 'endpoint-health.table.txt']) {
  const real = readFileSync(`${SRC}/${f}`, 'utf8').split('\n').filter((l) => l.startsWith('|'));
  const split = (l) => l.slice(1, -1).split('|').map((c) => c.slice(1, -1));
  const header = split(real[0]).map((c) => c.trim());
  const rows = [];
  for (const l of real.slice(1)) {
    const c = split(l);
    if (c[0].trim() === '') rows[rows.length - 1] = rows[rows.length - 1].map((x, i) => (c[i].trim() ? `${x} ${c[i].trimStart()}` : x));
    else rows.push(c.map((x) => x.trimStart()));
  }
  const mine = renderTable(header, rows);
  const theirs = `${readFileSync(`${SRC}/${f}`, 'utf8').split('\n').filter((l) => l.startsWith('|') || l.startsWith('+')).join('\n')}\n`;
  if (mine !== theirs) throw new Error(`renderer does not reproduce ${f}:\n${mine}\n${theirs}`);
}

// ---- endpoint status ------------------------------------------------------------------------------------
const str = (v) => (isLosslessNumber(v) ? v.value : String(v ?? 0));
const statuses = parse(readFileSync(`${SRC}/endpoint-status.json.txt`, 'utf8'));
const hex = (dec) => BigInt(dec).toString(16);

function statusRows(list) {
  return list.map(({ Endpoint, Status: s }) => {
    const db = BigInt(str(s.dbSize));
    const inUse = BigInt(str(s.dbSizeInUse));
    const quota = s.dbSizeQuota === undefined ? 0n : BigInt(str(s.dbSizeQuota));
    return [
      Endpoint, hex(str(s.header.member_id)), s.version, s.storageVersion ?? '', humanizeBytes(db), humanizeBytes(inUse),
      `${Number(100n - (inUse * 100n) / db)}%`, humanizeBytes(quota), String(str(s.leader) === str(s.header.member_id)),
      String(s.isLearner ?? false), str(s.raftTerm), str(s.raftIndex), str(s.raftAppliedIndex), (s.errors ?? []).join(', '),
      s.downgradeInfo?.targetVersion ?? '', String(s.downgradeInfo?.enabled ?? false),
    ];
  });
}
const STATUS_HEADER = ['endpoint', 'ID', 'version', 'storage version', 'db size', 'in use', 'percentage not in use', 'quota',
  'is leader', 'is learner', 'raft term', 'raft index', 'raft applied index', 'errors', 'downgrade target version', 'downgrade enabled'];

function statusFields(list) {
  let t = '';
  for (const { Endpoint, Status: s } of list) {
    t += `"ClusterID" : ${str(s.header.cluster_id)}\n"MemberID" : ${str(s.header.member_id)}\n`;
    if (BigInt(str(s.header.revision)) > 0n) t += `"Revision" : ${str(s.header.revision)}\n`;
    t += `"RaftTerm" : ${str(s.header.raft_term)}\n`;
    t += `"Version" : ${JSON.stringify(s.version)}\n"StorageVersion" : ${JSON.stringify(s.storageVersion ?? '')}\n`;
    t += `"DBSize" : ${str(s.dbSize)}\n"DBSizeInUse" : ${str(s.dbSizeInUse)}\n"DBSizeQuota" : ${str(s.dbSizeQuota)}\n`;
    t += `"Leader" : ${str(s.leader)}\n"IsLearner" : ${s.isLearner ?? false}\n"RaftIndex" : ${str(s.raftIndex)}\n`;
    t += `"RaftAppliedIndex" : ${str(s.raftAppliedIndex)}\n"Errors" : [${(s.errors ?? []).join(' ')}]\n`;
    t += `"Endpoint" : ${JSON.stringify(Endpoint)}\n"DowngradeTargetVersion" : ${JSON.stringify(s.downgradeInfo?.targetVersion ?? '')}\n`;
    t += `"DowngradeEnabled" : ${s.downgradeInfo?.enabled ?? false}\n\n`;
  }
  return t;
}

// encoding/json of StatusResponse in field order, omitempty: a 3.5 answer prints as 3.5 printed it.
function statusJson(list) {
  const raw = readFileSync(`${SRC}/endpoint-status.json.txt`, 'utf8').trim();
  if (list.every(({ Status: s }) => s.dbSizeQuota === undefined)) return `${raw}\n`;
  // "dbSizeQuota" follows dbSizeInUse (isLearner false and storageVersion "" are omitted).
  return `${raw.replace(/("dbSizeInUse":\d+)/g, `$1,"dbSizeQuota":${QUOTA}`)}\n`;
}

function writeStatus(tag, list) {
  const rows = statusRows(list);
  writeFileSync(`${OUT}/endpoint-status.${tag}.table.txt`, renderTable(STATUS_HEADER, rows));
  writeFileSync(`${OUT}/endpoint-status.${tag}.simple.txt`, rows.map((r) => `${r.join(', ')}\n`).join(''));
  writeFileSync(`${OUT}/endpoint-status.${tag}.fields.txt`, statusFields(list));
  writeFileSync(`${OUT}/endpoint-status.${tag}.json.txt`, statusJson(list));
}
writeStatus('36-client-35-server', statuses);
writeStatus('36-quota', statuses.map((e) => ({ ...e, Status: { ...e.Status, dbSizeQuota: QUOTA } })));

// ---- etcdutl snapshot status ----------------------------------------------------------------------------
const snap35 = parse(readFileSync(`${SRC}/etcdutl-snapshot-status-nospace.json.txt`, 'utf8'));
const backend = readEtcdBackend(`${SRC}/snapshot-nospace.db`);
const liveKeys = backend.keys.filter((k) => !k.deleted).length;
const ds = { hash: str(snap35.hash), revision: str(snap35.revision), totalKey: liveKeys, totalSize: str(snap35.totalSize), version: '' };
const snapRow = [Number(ds.hash).toString(16), ds.revision, String(ds.totalKey), humanizeBytes(ds.totalSize), ds.version];
writeFileSync(`${OUT}/snapshot-status-nospace.36.table.txt`, renderTable(['hash', 'revision', 'total keys', 'total size', 'version'], [snapRow]));
writeFileSync(`${OUT}/snapshot-status-nospace.36.simple.txt`, `${snapRow.join(', ')}\n`);
writeFileSync(`${OUT}/snapshot-status-nospace.36.fields.txt`,
  `"Hash" : ${ds.hash}\n"Revision" : ${ds.revision}\n"Keys" : ${ds.totalKey}\n"Size" : ${ds.totalSize}\n"Version" : ${ds.version}\n`);
writeFileSync(`${OUT}/snapshot-status-nospace.36.json.txt`,
  `{"hash":${ds.hash},"revision":${ds.revision},"totalKey":${ds.totalKey},"totalSize":${ds.totalSize},"version":"${ds.version}"}\n`);
console.log(`wrote ${OUT}: live keys ${liveKeys} (3.5 TOTAL KEYS ${str(snap35.totalKey)})`);
