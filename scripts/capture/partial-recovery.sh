#!/usr/bin/env bash
# Capture a REAL partial recovery from NOSPACE on a 3-member etcd cluster (issue 12: "after compact + defrag of
# two of three members + disarm, the incident was marked recovered while the third member raised NOSPACE again").
#
#   bash scripts/capture/partial-recovery.sh                       # etcd 3.5.16 (Debian trixie, fetched if missing)
#   ETCD_BIN_DIR=/usr/bin bash scripts/capture/partial-recovery.sh # the system etcd 3.4.23
#
# What runs, all on 127.0.0.1 with ports the kernel picks, data in a temp dir, every process stopped by PID:
#   - three etcd members (zap JSON logs, one file each), --quota-backend-bytes $QUOTA (16 MiB), no auto-compaction;
#   - a sampler: a `date` line then `etcdctl endpoint status --cluster -w json`, about every second, throughout;
#   - a filler (etcdctl put of 100 KiB values over 8 keys) until the DB is within 1.5 MiB of the quota, then the
#     Patroni-shaped writer (scripts/capture/patroni-shaped-writer.mjs, 4 puts per 20 ms cycle over the three
#     endpoints) until NOSPACE; the writer keeps writing through the recovery, as Patroni would;
#   - the operator's session, pasted as a person pastes it (prompt, command, real output, `date -u` lines):
#     alarm list, status, compact, defrag of etcd1 and etcd2 only, alarm disarm, a put (refused: etcd3, still over
#     the quota, raised NOSPACE again on the next write), alarm list, defrag of etcd3, alarm disarm, a put (OK),
#     alarm list (empty), status.
# Output: test/fixtures/partial-recovery-<version>/{etcd1.log,etcd2.log,etcd3.log,status-samples.log,transcript.txt,
#         writer-summary.log,README.md}. The prompts are text this script prints (a terminal would); every other
#         line is printed by etcd, etcdctl, `date` or the writer.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
if [[ -z ${ETCD_BIN_DIR:-} ]]; then
  while read -r _pkg _ver dir; do PATH=$dir/usr/bin:$PATH; done \
    < <(bash "$REPO/scripts/fetch-debian-packages.sh" trixie etcd-server etcd-client)
else
  PATH=$ETCD_BIN_DIR:$PATH
fi
export PATH ETCDCTL_API=3 LC_ALL=C TZ=${CAPTURE_TZ:-UTC}
ETCD_VER=$(etcd --version | awk 'NR == 1 { print $3 }')
OUT=${OUT:-$REPO/test/fixtures/partial-recovery-$ETCD_VER}
QUOTA=${QUOTA:-16777216}

WORK=$(mktemp -d /tmp/partial-recovery.XXXXXX)
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

# Six ports the kernel picks (bound and released at once; etcd binds them a moment later).
read -r C1 C2 C3 P1 P2 P3 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(6)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
CLIENTS=("$C1" "$C2" "$C3"); PEERS=("$P1" "$P2" "$P3")
EP1=127.0.0.1:$C1; EP2=127.0.0.1:$C2; EP3=127.0.0.1:$C3; ALL=$EP1,$EP2,$EP3
CLUSTER="etcd1=http://127.0.0.1:$P1,etcd2=http://127.0.0.1:$P2,etcd3=http://127.0.0.1:$P3"
ts() { date +%Y-%m-%dT%H:%M:%S.%3N%:z; }
ctl() { etcdctl --dial-timeout=3s --command-timeout=20s "$@"; }

START_TS=$(ts)
for i in 1 2 3; do
  etcd --name "etcd$i" --data-dir "$WORK/etcd$i" \
    --listen-client-urls "http://127.0.0.1:${CLIENTS[i-1]}" --advertise-client-urls "http://127.0.0.1:${CLIENTS[i-1]}" \
    --listen-peer-urls "http://127.0.0.1:${PEERS[i-1]}" --initial-advertise-peer-urls "http://127.0.0.1:${PEERS[i-1]}" \
    --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token partial-recovery \
    --quota-backend-bytes "$QUOTA" --snapshot-count 5000 --logger zap --log-outputs stderr 2>"$WORK/etcd$i.log" &
  PIDS+=("$!")
done
for i in $(seq 1 60); do
  ctl --endpoints="$ALL" endpoint health >/dev/null 2>&1 && break
  [[ $i -eq 60 ]] && { echo "cluster did not become healthy" >&2; exit 1; }
  sleep 0.5
done

sampler() {
  while [[ ! -e "$WORK/stop" ]]; do
    { ts; ctl --endpoints="$EP1" endpoint status --cluster -w json 2>&1 || true; } >>"$WORK/status-samples.log"
    sleep 1
  done
}
sampler &
PIDS+=("$!")

db_size() { # the largest member's physical DB size
  ctl --endpoints="$ALL" endpoint status -w json 2>/dev/null \
    | python3 -c 'import json,sys; print(max(int(m["Status"]["dbSize"]) for m in json.load(sys.stdin)))' 2>/dev/null || echo 0
}
head -c 76800 /dev/urandom | base64 -w0 >"$WORK/value" # 100 KiB of text
FILL_TS=$(ts); FILLED=0
while (($(db_size) < QUOTA - 1572864)); do
  ctl --endpoints="$EP1" put "/filler/k$((FILLED % 8))" <"$WORK/value" >/dev/null
  FILLED=$((FILLED + 1))
  ((FILLED < 400)) || { echo "filler did not reach the quota" >&2; exit 1; }
done

WRITER_TS=$(ts)
CYCLE_MS=20 node "$SCRIPT_DIR/patroni-shaped-writer.mjs" "$WORK/writer.log" "$ALL" &
WRITER_PID=$!; PIDS+=("$WRITER_PID")
ALARM_TS=""
for _ in $(seq 1 600); do
  kill -0 "$WRITER_PID" 2>/dev/null || { echo "writer died" >&2; exit 1; }
  if [[ -n "$(ctl --endpoints="$ALL" alarm list 2>/dev/null)" ]]; then ALARM_TS=$(ts); break; fi
  sleep 0.5
done
[[ -n $ALARM_TS ]] || { echo "no NOSPACE alarm within 300 s" >&2; exit 1; }
sleep 5 # the symptom, as people meet it: refused writes for a while before anyone acts

T="$WORK/transcript.txt"
: >"$T"
# run COMMAND: the prompt and command as a terminal shows them, then the command's real stdout+stderr.
run() {
  printf '[root@pg-etcd-1 ~]# %s\n' "$1" >>"$T"
  bash -c "$1" >>"$T" 2>&1 || true
}
E="etcdctl --endpoints=$ALL"
run "date -u"
run "$E alarm list"
run "$E endpoint status -w table"
REV=$(ctl --endpoints="$EP1" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
run "date -u"
run "etcdctl --endpoints=$EP1 compact $REV"
run "etcdctl --endpoints=$EP1 defrag"
run "etcdctl --endpoints=$EP2 defrag"
run "$E endpoint status -w table"
sleep 1
run "date -u"
run "$E alarm disarm"
run "$E put /service/pg_demo/operator-check ok"
run "$E alarm list"
run "$E endpoint status -w table"
sleep 2
run "date -u"
run "etcdctl --endpoints=$EP3 --command-timeout=60s defrag"
run "$E endpoint status -w table"
sleep 1
run "date -u"
run "$E alarm disarm"
run "$E put /service/pg_demo/operator-check ok"
run "$E alarm list"
sleep 3
run "date -u"
run "$E endpoint status -w table"
sleep 3 # a few clean samples and writer cycles after the recovery

kill "$WRITER_PID"; wait "$WRITER_PID" 2>/dev/null || true
STOP_TS=$(ts)
touch "$WORK/stop"; sleep 1.5

mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT/transcript.txt"
cp "$WORK"/etcd{1,2,3}.log "$WORK/status-samples.log" "$T" "$OUT/"
# The writer logs every put (tens of thousands of lines): keep its start, first failure, first success after the
# last failure, and summary.
{ grep -m1 ' start ' "$WORK/writer.log"; grep -m1 ' FAIL ' "$WORK/writer.log" || true
  awk '/ FAIL /{f=NR} END{print f+0}' "$WORK/writer.log" >"$WORK/lastfail"
  awk -v n="$(cat "$WORK/lastfail")" 'NR > n && / ok /{print; exit}' "$WORK/writer.log"
  grep ' summary ' "$WORK/writer.log"; } >"$OUT/writer-summary.log"
{
  echo "# etcd $ETCD_VER: partial recovery from NOSPACE on three members"
  echo
  echo "Printed by real programs during one run of \`bash scripts/capture/partial-recovery.sh\`"
  echo "${ETCD_BIN_DIR:+(ETCD_BIN_DIR=$ETCD_BIN_DIR) }on $(uname -sr); nothing is hand-written except this README, which the script writes,"
  echo "and the \`[root@pg-etcd-1 ~]# \` prompts in \`transcript.txt\`, which it prints before each command as a terminal would."
  echo
  echo "- etcd: \`$(command -v etcd)\` ($ETCD_VER), members etcd1..etcd3 on 127.0.0.1 (ports picked by the kernel), TZ=$TZ,"
  echo "  \`--quota-backend-bytes $QUOTA\`, no auto-compaction, zap JSON logs → \`etcd1.log\`, \`etcd2.log\`, \`etcd3.log\`; started $START_TS."
  echo "- filler: $FILLED \`etcdctl put /filler/k<0-7>\` of 100 KiB values from $FILL_TS, until the largest member was within 1.5 MiB of the quota."
  echo "- writer: \`CYCLE_MS=20 node scripts/capture/patroni-shaped-writer.mjs\` from $WRITER_TS to $STOP_TS (4 puts per"
  echo "  cycle: members/node1..3 to etcd1..3, status to etcd1); \`writer-summary.log\` keeps its start, first failure,"
  echo "  first success after its last failure, and summary lines (context for a reader, not an input: its summary"
  echo "  line quotes error strings)."
  echo "- NOSPACE first seen by \`etcdctl alarm list\` (polled every 0.5 s) at $ALARM_TS; the operator started 5 s later."
  echo "- \`transcript.txt\`: the operator's session: alarm list, status, compact $REV, defrag of etcd1 and etcd2 only, alarm"
  echo "  disarm, a put (etcd3, still over the quota, raises NOSPACE again), alarm list, defrag of etcd3, alarm disarm, a"
  echo "  put, alarm list, status. Times only from its \`date -u\` lines."
  echo "- \`status-samples.log\`: a \`date\` line (ISO, ms) then \`etcdctl endpoint status --cluster -w json\`, about every second,"
  echo "  from start to end."
  echo
  echo "Re-run: \`${ETCD_BIN_DIR:+ETCD_BIN_DIR=$ETCD_BIN_DIR }bash scripts/capture/partial-recovery.sh\` (about three minutes; replaces these files with a new run)."
} >"$OUT/README.md"
echo "captured into $OUT ($(du -sh "$OUT" | cut -f1))"
