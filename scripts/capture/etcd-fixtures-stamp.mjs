#!/usr/bin/env node
// Prefix every stdin line with the local time of its arrival: "<YYYY-MM-DDTHH:MM:SS.mmm±hh:mm> <line>".
// Used by etcd-fixtures.sh to timestamp `etcdctl watch -w json` output (watch.jsonl).
import readline from 'node:readline';

function isoLocal(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const p = (n, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(
    d.getSeconds(),
  )}.${p(d.getMilliseconds(), 3)}${sign}${p(off / 60)}:${p(off % 60)}`;
}
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => process.stdout.write(`${isoLocal()} ${line}\n`));
