#!/usr/bin/env bash
# The main job on the bundled real data: ingest into a fresh store, print the on-call verdict, write the
# whole analysis as one HTML file and say where it is. Under 60 lines in all (test/oncall-screen.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
db="${DEMO_DB:-/tmp/etcd-forensics-demo.db}"
html="${DEMO_REPORT:-${db%.db}.html}"
rm -f "$db" "$db-wal" "$db-shm"
cli=(node bin/etcd-forensics.js)
s=samples/patroni-nospace
inputs=("$s"/etcd/*.log "$s"/patroni/*/patroni.log "$s"/samples/* "$s"/recovery/0[1-9]-*.txt "$s"/recovery/1[12]-*.txt "$s"/snapshot-status.json.txt "$s"/snapshot.bin.gz)
echo "== a real Patroni 3.0.2 + etcd 3.4.23 NOSPACE incident: ingest ${#inputs[@]} files of $s"
"${cli[@]}" ingest --db "$db" "${inputs[@]}" >/dev/null
"${cli[@]}" analyze --db "$db" --section verdict
"${cli[@]}" report --db "$db" --format html -o "$html"
echo
echo "== the seed incident (etcd 3.5.1, one pasted transcript)"
seed="${db%.db}-seed.db"
rm -f "$seed" "$seed-wal" "$seed-shm"
"${cli[@]}" ingest --db "$seed" test/fixtures/seed/etcd-no-space-incident.txt >/dev/null
"${cli[@]}" analyze --db "$seed" --section verdict
rm -f "$seed" "$seed-wal" "$seed-shm"
echo
echo "report: $html (the whole analysis, one HTML file)"
echo "more:   node bin/etcd-forensics.js analyze --db $db"
echo "        (--full, --section NAME, --limit N)"
