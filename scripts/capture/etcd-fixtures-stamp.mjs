#!/usr/bin/env node
// Prefix every stdin line with the local time of its arrival: "<YYYY-MM-DDTHH:MM:SS.mmm±hh:mm> <line>".
// Used by etcd-fixtures.sh to timestamp `etcdctl watch -w json` output (watch.jsonl).
import readline from 'node:readline';
import { isoLocal } from './iso-local.mjs';

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => process.stdout.write(`${isoLocal()} ${line}\n`));
