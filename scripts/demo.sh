#!/usr/bin/env bash
# The main job on the bundled real data: ingest into a fresh store and print the analysis.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${DEMO_DB:-/tmp/etcd-forensics-demo.db}"
rm -f "$db" "$db-wal" "$db-shm"
cli=(node bin/etcd-forensics.js)
s=samples/patroni-nospace
inputs=("$s"/etcd/*.log "$s"/patroni/*/patroni.log "$s"/samples/* "$s"/recovery/0[1-9]-*.txt "$s"/recovery/1[12]-*.txt "$s"/snapshot-status.json.txt "$s"/snapshot.bin.gz)
echo "== ingest (a real Patroni 3.0.2 + etcd 3.4.23 NOSPACE incident; times in the files are UTC or carry +0800)" >&2
"${cli[@]}" ingest --db "$db" "${inputs[@]}"
echo "== analyze" >&2
"${cli[@]}" analyze --db "$db"
echo "== the seed incident (etcd 3.5.1, pasted transcript)" >&2
rm -f "$db.seed"
"${cli[@]}" ingest --db "$db.seed" test/fixtures/seed/etcd-no-space-incident.txt
"${cli[@]}" analyze --db "$db.seed"
rm -f "$db.seed" "$db.seed-wal" "$db.seed-shm"
