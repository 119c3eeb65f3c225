#!/usr/bin/env bash
# Produces a big REAL etcd snapshot for bench/bbolt-read.ts: a single etcd 3.4 on 127.0.0.1 (data
# dir on /dev/shm, 8 GiB quota) is filled with Patroni-shaped txns until its backend passes the
# target size, then `etcdctl snapshot save` writes the snapshot. The file is NOT committed.
#
#   bash bench/make-big-snapshot.sh [out=/tmp/bbolt-bench/big.db] [targetMB=220] [maxSeconds=600]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/bbolt-bench/big.db}"
mkdir -p "$(dirname "$out")"
rm -f "$out"
node --import tsx bench/bbolt-fill.ts "$out" "${2:-220}" "${3:-600}"
ls -l "$out"
