#!/usr/bin/env node
// Derives etcd 3.6-style zap lines from the REAL etcd 3.4.23 zap capture (no etcd 3.6 binary here).
// Only message/field differences read in etcd's release-3.6 branch are applied (README.md in the output
// folder cites file and line for each), nothing else:
//   1. ts re-encoded as 3.6 writes it: client/pkg/logutil/zap.go:61 `2006-01-02T15:04:05.000000Z0700`
//      (the source has ms precision: `.272+0800` → `.272000+0800`, the same instant).
//   2. "logger":"raft" after ts on raft lines (bootstrap.go:534 `cfg.Logger.Named("raft")`).
//   3. `defragmented` → `finished defragmenting directory` (storage/backend/backend.go:593), same fields.
//   4. `saved snapshot` → `saved snapshot to disk` (etcdserver/server.go:2261), same field snapshot-index.
//   5. `alarm raised` / `alarm disarmed` lines dropped: 3.6's applier logs neither (apply/apply.go:215-242).
//   6. `compacted Raft logs` lines dropped: 3.6 logs it at debug level (server.go:2294 lg.Debug).
//   7. the start-up line's etcd-version "3.4.23" → "3.6.0" (embed/etcd.go:325 prints version.Version).
// Non-JSON lines are copied unchanged.
// Usage: node scripts/capture/derive-etcd36.mjs   (from the repository root)
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const src = 'test/fixtures/etcd-3.4/etcd-zap.log';
const outDir = 'test/fixtures/etcd-3.6-derived';
const text = readFileSync(src, 'utf8');
const DROP = ['"msg":"alarm raised"', '"msg":"alarm disarmed"', '"msg":"compacted Raft logs"'];
const out = [];
for (const line of text.split('\n')) {
  if (!line.startsWith('{')) { out.push(line); continue; }
  if (DROP.some((d) => line.includes(d))) continue;
  out.push(line
    .replace(/^(\{"level":"[a-z]+","ts":"[0-9T:-]+\.[0-9]{3})([+-][0-9]{4}"|Z")/, '$1000$2')
    .replace(/^(\{"level":"[a-z]+","ts":"[^"]*",)("caller":"raft\/)/, '$1"logger":"raft",$2')
    .replace('"msg":"defragmented"', '"msg":"finished defragmenting directory"')
    .replace('"msg":"saved snapshot",', '"msg":"saved snapshot to disk",')
    .replace(/("msg":"starting an etcd server","etcd-version":)"3\.4\.23"/, '$1"3.6.0"'));
}
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}/etcd-zap-3.6.log`, out.join('\n'));
const sha = createHash('sha256').update(text).digest('hex');
console.log(`wrote ${outDir}/etcd-zap-3.6.log from ${src} (sha256 ${sha})`);
