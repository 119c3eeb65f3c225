#!/usr/bin/env bash
# Ingest throughput and peak memory of the BUILT CLI on generated etcd logs (see bench/gen-etcd-log.ts).
# Not a test: figures depend on the machine and its load; bench/RESULTS-ingest.md records them.
#
#   npm run build
#   node --import tsx bench/gen-etcd-log.ts mixed     # → /tmp/etcd-bench-mixed.log   (1 GB)
#   node --import tsx bench/gen-etcd-log.ts nospace   # → /tmp/etcd-bench-nospace.log (1 GB)
#   bash bench/ingest-bench.sh [runs=3] [files…]
#
# Each run: fresh store, `/usr/bin/time -v node bin/etcd-forensics.js ingest --db $DB <file>`; MB/s is
# file bytes (10^6) / wall-clock seconds of the whole process (start-up, sha256 pre-pass, parse, write,
# commit); cpu is user+sys seconds (on a shared machine wall time includes waiting for a core). Prints one line per run and the median per file. Exit status of the CLI is ignored (the logs
# contain grpc lines of other loggers' formats that may be counted as issues).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
shift || true
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=(/tmp/etcd-bench-mixed.log /tmp/etcd-bench-nospace.log)
DB=${BENCH_DB:-/tmp/etcd-bench.db}

echo "# $(date -u +%FT%TZ) nproc=$(nproc) node=$(node -v) load: $(uptime | sed 's/.*load average: //')"
for f in "${FILES[@]}"; do
  bytes=$(stat -c %s "$f")
  rates=(); rss=()
  for ((i = 1; i <= RUNS; i++)); do
    rm -f "$DB" "$DB-wal" "$DB-shm"
    log=$(mktemp)
    /usr/bin/time -v node bin/etcd-forensics.js ingest --db "$DB" "$f" >/dev/null 2>"$log" || true
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s }' "$log")
    kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$log")
    rate=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
    grep -q '^error:' "$log" && { echo "run failed:"; cat "$log"; exit 1; }
    echo "$(basename "$f") run $i: ${secs}s ${rate} MB/s peak RSS $((kb / 1024)) MiB cpu ${cpu}s (load $(cut -d' ' -f1 /proc/loadavg))"
    rates+=("$rate"); rss+=("$((kb / 1024))")
    rm -f "$log"
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  echo "$(basename "$f") ($bytes bytes) median of $RUNS: $(med "${rates[@]}") MB/s, peak RSS $(med "${rss[@]}") MiB (max $(printf '%s\n' "${rss[@]}" | sort -g | tail -1) MiB)"
done
rm -f "$DB" "$DB-wal" "$DB-shm"
