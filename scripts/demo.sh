#!/usr/bin/env bash
# The main job on the bundled real data: ingest into a fresh store and print the analysis.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${DEMO_DB:-/tmp/etcd-forensics-demo.db}"
rm -f "$db" "$db-wal" "$db-shm"
cli=(node bin/etcd-forensics.js)
inputs=()
if [ -d samples/patroni-nospace ]; then
  inputs+=(samples/patroni-nospace/logs samples/patroni-nospace/samples)
fi
inputs+=(test/fixtures/etcd-3.4/etcd-zap.log test/fixtures/etcd-3.4/etcd-capnslog.log test/fixtures/etcd-3.4/status-samples.log)
echo "== ingest" >&2
"${cli[@]}" ingest --db "$db" --tz Asia/Shanghai "${inputs[@]}" || true
echo "== analyze" >&2
"${cli[@]}" analyze --db "$db"
echo "== the seed incident (etcd 3.5.1, pasted transcript)" >&2
rm -f "$db.seed"
"${cli[@]}" ingest --db "$db.seed" test/fixtures/seed/etcd-no-space-incident.txt
"${cli[@]}" analyze --db "$db.seed"
rm -f "$db.seed" "$db.seed-wal" "$db.seed-shm"
