#!/usr/bin/env node
// Patroni-shaped writer for etcd 3.4 fixture capture (used by etcd-fixtures.sh).
//
// Speaks the etcd v3 JSON gateway (POST /v3/kv/put, /v3/kv/txn, /v3/lease/grant,
// /v3/lease/keepalive), which is also how Patroni's etcd3 DCS talks to etcd.
// Keys (namespace /service, scope pg_demo):
//   /service/pg_demo/initialize        txn create-if-absent, once
//   /service/pg_demo/config            put, once
//   /service/pg_demo/leader            txn create-if-absent with node1's lease, once (kept by keepalive)
//   /service/pg_demo/members/nodeN     put with nodeN's lease, every cycle
//   /service/pg_demo/status            put {"optime":N}, every cycle
// One cycle = one compressed Patroni HA loop (CYCLE_MS, default 100 ms instead of loop_wait 10 s)
// so that a tiny quota fills within ~1.5 minutes.
//
// Usage: node patroni-shaped-writer.mjs <log-file> <endpoint>[,<endpoint>...]
// Env: CYCLE_MS (100), LEASE_TTL (30), KEEPALIVE_MS (5000); RATE_SWITCH_AFTER_MS with CYCLE_MS_AFTER: after that
// many ms of writing, the cycle becomes CYCLE_MS_AFTER (a change of write rate, logged as `rate-switch …`).
// Stops on SIGTERM/SIGINT, then appends a JSON summary (per-key attempted/ok/failed counts).
import fs from 'node:fs';
import { isoLocal } from './iso-local.mjs';

const [logFile, epArg] = process.argv.slice(2);
if (!logFile || !epArg) {
  console.error('usage: patroni-shaped-writer.mjs <log-file> <host:port>[,<host:port>...]');
  process.exit(2);
}
const endpoints = epArg.split(',').map((e) => e.replace(/^https?:\/\//, ''));
const CYCLE_MS = Number(process.env.CYCLE_MS ?? 100);
const LEASE_TTL = Number(process.env.LEASE_TTL ?? 30);
const KEEPALIVE_MS = Number(process.env.KEEPALIVE_MS ?? 5000);
const RATE_SWITCH_AFTER_MS = process.env.RATE_SWITCH_AFTER_MS ? Number(process.env.RATE_SWITCH_AFTER_MS) : null;
const CYCLE_MS_AFTER = Number(process.env.CYCLE_MS_AFTER ?? CYCLE_MS);
const NS = '/service';
const SCOPE = 'pg_demo';
const base = `${NS}/${SCOPE}`;
const log = fs.openSync(logFile, 'a');

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
function write(line) {
  fs.writeSync(log, `${isoLocal()} ${line}\n`);
}

const stats = {}; // key -> {attempted, ok, failed, errors:{msg:n}}
function count(key, ok, err) {
  const s = (stats[key] ??= { attempted: 0, ok: 0, failed: 0, errors: {} });
  s.attempted++;
  if (ok) s.ok++;
  else {
    s.failed++;
    s.errors[err] = (s.errors[err] ?? 0) + 1;
  }
}

async function call(ep, path, body) {
  const res = await fetch(`http://${ep}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text); // revisions/ids are strings in the gateway's JSON, so no precision loss
  } catch {
    /* keep text */
  }
  return { status: res.status, json, text };
}

function describeError(r) {
  if (r.json && (r.json.error || r.json.message)) {
    return `http=${r.status} code=${r.json.code ?? ''} error=${JSON.stringify(r.json.error ?? r.json.message)}`;
  }
  return `http=${r.status} body=${JSON.stringify(r.text.slice(0, 200))}`;
}

// op: 'put' | 'txn-create'; returns true on success
async function doWrite(op, ep, key, value, lease) {
  let r;
  try {
    if (op === 'put') {
      const body = { key: b64(key), value: b64(value) };
      if (lease) body.lease = lease;
      r = await call(ep, '/v3/kv/put', body);
    } else {
      const put = { key: b64(key), value: b64(value) };
      if (lease) put.lease = lease;
      r = await call(ep, '/v3/kv/txn', {
        compare: [{ key: b64(key), result: 'EQUAL', target: 'CREATE', create_revision: '0' }],
        success: [{ request_put: put }],
        failure: [],
      });
    }
  } catch (e) {
    const msg = `exception=${JSON.stringify(String(e?.cause?.code ?? e?.name ?? e))}`;
    write(`${op} ${key} -> ${ep} FAIL ${msg}`);
    count(key, false, msg);
    return false;
  }
  if (r.status === 200 && r.json && !r.json.error) {
    const rev = r.json.header?.revision ?? '?';
    const extra = op === 'txn-create' ? ` succeeded=${r.json.succeeded === true}` : '';
    write(`${op} ${key} -> ${ep} ok revision=${rev}${extra} value_size=${Buffer.byteLength(value)}${lease ? ` lease=${lease}` : ''}`);
    count(key, true);
    return true;
  }
  const msg = describeError(r);
  write(`${op} ${key} -> ${ep} FAIL ${msg}`);
  count(key, false, msg.replace(/^http=\d+ /, ''));
  return false;
}

async function grantLease(ep, node) {
  for (;;) {
    try {
      const r = await call(ep, '/v3/lease/grant', { TTL: String(LEASE_TTL) });
      if (r.status === 200 && r.json?.ID) {
        write(`lease-grant ${node} -> ${ep} ok id=${r.json.ID} ttl=${r.json.TTL}`);
        return r.json.ID;
      }
      write(`lease-grant ${node} -> ${ep} FAIL ${describeError(r)}`);
    } catch (e) {
      write(`lease-grant ${node} -> ${ep} FAIL exception=${JSON.stringify(String(e))}`);
    }
    await sleep(1000);
  }
}

async function keepAlive(ep, node, id) {
  try {
    const r = await call(ep, '/v3/lease/keepalive', { ID: id });
    const ttl = r.json?.result?.TTL;
    if (r.status === 200 && ttl) write(`lease-keepalive ${node} -> ${ep} ok id=${id} ttl=${ttl}`);
    else write(`lease-keepalive ${node} -> ${ep} FAIL ${describeError(r)}`);
  } catch (e) {
    write(`lease-keepalive ${node} -> ${ep} FAIL exception=${JSON.stringify(String(e))}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));

const nodes = ['node1', 'node2', 'node3'];
// node1 -> first endpoint, node2 -> second, node3 -> first again: writes reach every member.
const epOf = (i) => endpoints[i % endpoints.length];

write(`start endpoints=${endpoints.join(',')} cycle_ms=${CYCLE_MS} lease_ttl=${LEASE_TTL} pid=${process.pid}`);
const leases = [];
for (let i = 0; i < nodes.length; i++) leases.push(await grantLease(epOf(i), nodes[i]));

await doWrite('txn-create', epOf(0), `${base}/initialize`, '7260000000000000001');
await doWrite(
  'put',
  epOf(0),
  `${base}/config`,
  JSON.stringify({
    ttl: 30,
    loop_wait: 10,
    retry_timeout: 10,
    maximum_lag_on_failover: 1048576,
    postgresql: { use_pg_rewind: true, parameters: { max_connections: 100, wal_level: 'replica', hot_standby: 'on' } },
  }),
);
await doWrite('txn-create', epOf(0), `${base}/leader`, 'node1', leases[0]);

let lastKeepalive = Date.now();
let xlog = 50331648;
let cycle = 0;
let cycleMs = CYCLE_MS;
const writingSince = Date.now();
while (!stopping) {
  const t0 = Date.now();
  if (RATE_SWITCH_AFTER_MS !== null && cycleMs !== CYCLE_MS_AFTER && t0 - writingSince >= RATE_SWITCH_AFTER_MS) {
    cycleMs = CYCLE_MS_AFTER;
    write(`rate-switch cycle_ms=${CYCLE_MS}->${CYCLE_MS_AFTER} after_ms=${t0 - writingSince}`);
  }
  cycle++;
  xlog += 8192 + (cycle % 7) * 1024;
  const writes = nodes.map((n, i) =>
    doWrite(
      'put',
      epOf(i),
      `${base}/members/${n}`,
      JSON.stringify({
        conn_url: `postgres://127.0.0.1:${5432 + i}/postgres`,
        api_url: `http://127.0.0.1:${8008 + i}/patroni`,
        state: 'running',
        role: i === 0 ? 'master' : 'replica',
        version: '3.0.2',
        xlog_location: i === 0 ? xlog : xlog - 4096 * i,
        timeline: 1,
      }),
      leases[i],
    ),
  );
  writes.push(doWrite('put', epOf(0), `${base}/status`, JSON.stringify({ optime: xlog })));
  await Promise.all(writes);
  if (Date.now() - lastKeepalive >= KEEPALIVE_MS) {
    lastKeepalive = Date.now();
    await Promise.all(nodes.map((n, i) => keepAlive(epOf(i), n, leases[i])));
  }
  const left = cycleMs - (Date.now() - t0);
  if (left > 0) await sleep(left);
}

const totals = Object.values(stats).reduce(
  (a, s) => ({ attempted: a.attempted + s.attempted, ok: a.ok + s.ok, failed: a.failed + s.failed }),
  { attempted: 0, ok: 0, failed: 0 },
);
write(`summary ${JSON.stringify({ cycles: cycle, totals, perKey: stats })}`);
fs.closeSync(log);
