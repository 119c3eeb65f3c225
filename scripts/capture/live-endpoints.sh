#!/usr/bin/env bash
# Captures what `collect` and a saved-page ingest read from a live etcd, for etcd 3.4.23 (system) and 3.5.16
# (Debian trixie, unpacked by scripts/fetch-debian-packages.sh): the /metrics page and the HTTP/JSON gateway's
# answers (maintenance/status, maintenance/alarm, cluster/member/list), before and after a NOSPACE alarm.
# One single-member etcd per version on 127.0.0.1 with kernel-picked ports and a 1 MiB quota; 20 small puts,
# `etcdctl compact`, then 64 kB values until etcd refuses with NOSPACE. Output: test/fixtures/live-<version>/.
#   bash scripts/capture/live-endpoints.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CACHE_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-forensics/debian}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
capture() {
  local version=$1 etcd=$2 etcdctl=$3
  local out="$ROOT/test/fixtures/live-$version" tmp cport pport pid ep
  tmp=$(mktemp -d); cport=$(port); pport=$(port); ep="http://127.0.0.1:$cport"
  mkdir -p "$out"
  "$etcd" --name live --data-dir "$tmp/data" --listen-client-urls "$ep" --advertise-client-urls "$ep" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "live=http://127.0.0.1:$pport" --quota-backend-bytes 1048576 --logger zap > "$tmp/etcd.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' RETURN
  for _ in $(seq 1 100); do curl -sf "$ep/health" >/dev/null && break; sleep 0.1; done
  for i in $(seq 1 20); do ETCDCTL_API=3 "$etcdctl" --endpoints "$ep" put "/service/pg_live/members/node$((i % 3))" "{\"xlog_location\":$i}" >/dev/null; done
  ETCDCTL_API=3 "$etcdctl" --endpoints "$ep" compact 15 >/dev/null
  curl -s "$ep/metrics" > "$out/metrics.txt"
  curl -s -X POST "$ep/v3/maintenance/status" -d '{}' > "$out/status.json"
  curl -s -X POST "$ep/v3/maintenance/alarm" -d '{"action":"GET"}' > "$out/alarm.json"
  curl -s -X POST "$ep/v3/cluster/member/list" -d '{}' > "$out/member-list.json"
  local big; big=$(head -c 65536 /dev/zero | tr '\0' x)
  for i in $(seq 1 64); do ETCDCTL_API=3 "$etcdctl" --endpoints "$ep" put "/filler/$i" "$big" >/dev/null 2>&1 || break; done
  curl -s -X POST "$ep/v3/maintenance/status" -d '{}' > "$out/status-nospace.json"
  curl -s -X POST "$ep/v3/maintenance/alarm" -d '{"action":"GET"}' > "$out/alarm-nospace.json"
  curl -s "$ep/metrics" > "$out/metrics-nospace.txt"
  cat > "$out/README.md" <<EOR
Real output of etcd $version (single member, 1 MiB quota) captured by \`bash scripts/capture/live-endpoints.sh\`:
\`metrics.txt\` (GET /metrics), \`status.json\` (POST /v3/maintenance/status {}), \`alarm.json\` (POST /v3/maintenance/alarm
{"action":"GET"}), \`member-list.json\` (POST /v3/cluster/member/list {}) after 20 puts and \`etcdctl compact 15\`;
\`*-nospace.*\` after 64 kB puts until etcd refused them with NOSPACE. Ports were picked by the kernel.
EOR
}
capture 3.4.23 /usr/bin/etcd /usr/bin/etcdctl
S=$(ls -d "$CACHE"/trixie/etcd-server-3.5.16-* | tail -1); C=$(ls -d "$CACHE"/trixie/etcd-client-3.5.16-* | tail -1)
capture 3.5.16 "$S/usr/bin/etcd" "$C/usr/bin/etcdctl"
