#!/usr/bin/env bash
# Capture REAL capacity-planning runs of etcd under Patroni-shaped writes (issue 12): one member on 127.0.0.1,
# a temp data dir, a small quota, `etcdctl endpoint status -w json` with a `date` line every second.
#
#   bash scripts/capture/capacity-capture.sh periodic   # --auto-compaction-mode periodic, retention 1m, ~4.5 min
#   bash scripts/capture/capacity-capture.sh revision   # --auto-compaction-mode revision, retention 1000, ~11 min
#                                                       # (etcd's revision compactor runs every 5 minutes)
#   bash scripts/capture/capacity-capture.sh steady     # no compaction, constant rate, until NOSPACE (~3.5 min)
#   bash scripts/capture/capacity-capture.sh triple     # no compaction, the writer triples its rate after 120 s
#   bash scripts/capture/capacity-capture.sh long       # periodic retention 1h: configured, not due within the 150 s run
#   DEBIAN_SUITE=trixie bash scripts/capture/capacity-capture.sh periodic   # etcd 3.5.16 (scripts/fetch-debian-packages.sh)
#
# Output: test/fixtures/etcd-<3.4|version>-capacity/<scenario>/{etcd.log,status-samples.log,writer-summary.log,README.md}.
# Env: CAPTURE_TZ (Asia/Shanghai), RUN_S (seconds of writing for the bounded scenarios), OUT_ROOT.
set -euo pipefail

SCENARIO=${1:?usage: capacity-capture.sh periodic|revision|steady|triple|long}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
export TZ=${CAPTURE_TZ:-Asia/Shanghai}
export ETCDCTL_API=3

DEBIAN_SUITE=${DEBIAN_SUITE:-}
if [[ -n $DEBIAN_SUITE ]]; then
  while read -r _pkg _ver dir; do PATH=$dir/usr/bin:$PATH; done \
    < <(bash "$REPO/scripts/fetch-debian-packages.sh" "$DEBIAN_SUITE" etcd-server etcd-client)
  export PATH
fi
ETCD_VER=$(etcd --version | awk 'NR == 1 { print $3 }')
case $ETCD_VER in
  3.4.*) OUT_ROOT=${OUT_ROOT:-$REPO/test/fixtures/etcd-3.4-capacity} ;;
  *) OUT_ROOT=${OUT_ROOT:-$REPO/test/fixtures/etcd-$ETCD_VER-capacity} ;;
esac
OUT=$OUT_ROOT/$SCENARIO

# Scenario settings. Quotas are small so that a run fits in minutes; CYCLE_MS is the writer's HA-loop period
# (4 puts per cycle: members/node1..3 and status).
RATE_ENV=()
case $SCENARIO in
  periodic) QUOTA=8388608; COMPACTION=(--auto-compaction-mode periodic --auto-compaction-retention 1m); CYCLE=100; RUN_S=${RUN_S:-270}; UNTIL=time ;;
  revision) QUOTA=8388608; COMPACTION=(--auto-compaction-mode revision --auto-compaction-retention 1000); CYCLE=200; RUN_S=${RUN_S:-660}; UNTIL=time ;;
  steady) QUOTA=2097152; COMPACTION=(--auto-compaction-retention 0); CYCLE=100; RUN_S=${RUN_S:-600}; UNTIL=alarm ;;
  triple) QUOTA=2097152; COMPACTION=(--auto-compaction-retention 0); CYCLE=300; RUN_S=${RUN_S:-600}; UNTIL=alarm
    RATE_ENV=(RATE_SWITCH_AFTER_MS=120000 CYCLE_MS_AFTER=100) ;;
  long) QUOTA=8388608; COMPACTION=(--auto-compaction-mode periodic --auto-compaction-retention 1h); CYCLE=100; RUN_S=${RUN_S:-150}; UNTIL=time ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac

WORK=$(mktemp -d /tmp/capacity-capture.XXXXXX)
PIDS=()
cleanup() {
  local rc=$? i
  touch "$WORK/stop" 2>/dev/null || true
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "${PIDS[i]}" 2>/dev/null || break; sleep 0.3; done
    kill -9 "${PIDS[i]}" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then echo "capture FAILED (rc=$rc); work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

read -r C1 P1 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
EP=127.0.0.1:$C1
ts() { date +%Y-%m-%dT%H:%M:%S.%3N%:z; }
ctl() { etcdctl --dial-timeout=3s --command-timeout=10s --endpoints="$EP" "$@"; }

FLAGS=(--name etcd1 --data-dir "$WORK/etcd1" --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP"
  --listen-peer-urls "http://127.0.0.1:$P1" --initial-advertise-peer-urls "http://127.0.0.1:$P1"
  --initial-cluster "etcd1=http://127.0.0.1:$P1" --initial-cluster-state new --initial-cluster-token capacity-capture
  --quota-backend-bytes "$QUOTA" "${COMPACTION[@]}" --snapshot-count 2000 --logger zap --log-outputs stderr)
START_TS=$(ts)
etcd "${FLAGS[@]}" 2>"$WORK/etcd.log" &
PIDS+=("$!")
for i in $(seq 1 60); do
  ctl endpoint health >/dev/null 2>&1 && break
  [[ $i -eq 60 ]] && { echo "etcd did not become healthy" >&2; exit 1; }
  sleep 0.5
done

sampler() {
  while [[ ! -e "$WORK/stop" ]]; do
    { ts; ctl endpoint status -w json 2>&1 || true; } >>"$WORK/status-samples.log"
    sleep 1
  done
}
sampler &
PIDS+=("$!")

WRITER_TS=$(ts)
env CYCLE_MS=$CYCLE "${RATE_ENV[@]}" node "$SCRIPT_DIR/patroni-shaped-writer.mjs" "$WORK/writer.log" "$EP" &
WRITER_PID=$!; PIDS+=("$WRITER_PID")

ALARM_TS=""
end=$((SECONDS + RUN_S))
while ((SECONDS < end)); do
  kill -0 "$WRITER_PID" 2>/dev/null || { echo "writer died" >&2; exit 1; }
  if [[ $UNTIL == alarm && -n "$(ctl alarm list 2>/dev/null)" ]]; then ALARM_TS=$(ts); break; fi
  sleep 0.5
done
if [[ $UNTIL == alarm ]]; then
  [[ -n $ALARM_TS ]] || { echo "no NOSPACE alarm within ${RUN_S}s" >&2; exit 1; }
  sleep 3 # a few samples with the alarm set
fi
kill "$WRITER_PID"; wait "$WRITER_PID" 2>/dev/null || true
STOP_TS=$(ts)
touch "$WORK/stop"; sleep 1.5

mkdir -p "$OUT"
cp "$WORK/etcd.log" "$WORK/status-samples.log" "$OUT/"
# The writer logs every put (tens of thousands of lines): keep its start, rate switch, first failure and summary.
{ grep -m1 ' start ' "$WORK/writer.log"; grep ' rate-switch ' "$WORK/writer.log" || true
  grep -m1 ' FAIL ' "$WORK/writer.log" || true; grep ' summary ' "$WORK/writer.log"; } >"$OUT/writer-summary.log"
{
  echo "# etcd $ETCD_VER capacity run: $SCENARIO"
  echo
  echo "Printed by real programs during one run of \`bash scripts/capture/capacity-capture.sh $SCENARIO\`"
  echo "${DEBIAN_SUITE:+(DEBIAN_SUITE=$DEBIAN_SUITE) }on $(uname -sr); nothing is hand-written except this README, which the script writes."
  echo
  echo "- etcd: \`$(command -v etcd)\` ($ETCD_VER), one member, TZ=$TZ, started $START_TS:"
  echo "  \`etcd ${FLAGS[*]}\` (temp dir and ports vary) → \`etcd.log\` (zap JSON)"
  echo "- writer: \`CYCLE_MS=$CYCLE ${RATE_ENV[*]} node scripts/capture/patroni-shaped-writer.mjs\` from $WRITER_TS to $STOP_TS"
  echo "  (4 puts per cycle: members/node1..3 with leases, status); \`writer-summary.log\` keeps its start, rate switch,"
  echo "  first failure and summary lines."
  echo "- \`status-samples.log\`: \`date\` (ISO, local offset) then \`etcdctl endpoint status -w json\`, about every second."
  [[ -n $ALARM_TS ]] && echo "- NOSPACE alarm first seen by \`etcdctl alarm list\` (polled every 0.5 s) at $ALARM_TS; writer stopped 3 s later."
  echo "- quota-backend-bytes $QUOTA; compaction flags: \`${COMPACTION[*]}\`."
} >"$OUT/README.md"
echo "captured $SCENARIO into $OUT ($(du -sh "$OUT" | cut -f1))"
