#!/usr/bin/env bash
# Capture REAL etcd NOSPACE fixtures into test/fixtures/etcd-3.4/ (system etcd 3.4) or test/fixtures/etcd-<version>/.
#
#   bash scripts/capture/etcd-fixtures.sh                        # the system's etcd (Debian bookworm 3.4.23)
#   DEBIAN_SUITE=trixie bash scripts/capture/etcd-fixtures.sh    # etcd 3.5.16 from Debian trixie (sid: 3.5.30)
#
# DEBIAN_SUITE fetches etcd-server + etcd-client of that suite with scripts/fetch-debian-packages.sh (cached, the
# system's apt state untouched) and runs those binaries instead of the ones on PATH.
#
# Starts a 2-member etcd cluster on 127.0.0.1 (member etcd1 logs zap JSON, member etcd2 logs capnslog text on 3.4;
# 3.5 has no capnslog: both log zap),
# with a tiny --quota-backend-bytes and no auto-compaction, fills it with Patroni-shaped writes until the
# NOSPACE alarm is raised, captures every etcdctl output format while the alarm is active, runs the documented
# recovery (compact, defrag each member, alarm disarm) and keeps the member logs, a timestamped watch of every
# write, periodic etcdctl samples and the writer's own log.
#
# Re-runnable; takes about 3 minutes. Only talks to 127.0.0.1.
# Env overrides: QUOTA_BYTES (default 1048576 on 3.4, 262144 on 3.5), CYCLE_MS (writer cycle, default 100), CAPTURE_TZ (default
# Asia/Shanghai: every process, etcd included, runs in this zone so logs carry a non-UTC offset),
# OUT_DIR (default <repo>/test/fixtures/etcd-3.4 or etcd-<version>), AFTER_ALARM_S (default 18 on 3.4, 10 on 3.5), BEFORE_DISARM_S (pause between the
# defrags and alarm disarm, default 5), AFTER_RECOVERY_S (default 10).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
QUOTA_BYTES=${QUOTA_BYTES:-} # default below: 1048576 for 3.4, 262144 for 3.5 (keeps the folder near 2 MB)
export CYCLE_MS=${CYCLE_MS:-100}
export TZ=${CAPTURE_TZ:-Asia/Shanghai}
AFTER_ALARM_S=${AFTER_ALARM_S:-} # default below: 18 for 3.4, 10 for 3.5
AFTER_RECOVERY_S=${AFTER_RECOVERY_S:-10}
BEFORE_DISARM_S=${BEFORE_DISARM_S:-5}
export ETCDCTL_API=3

# ---- 1. tools -------------------------------------------------------------------------------------------
DEBIAN_SUITE=${DEBIAN_SUITE:-}
DEB_VERSION=""
if [[ -n $DEBIAN_SUITE ]]; then
  FETCHED=$(bash "$REPO/scripts/fetch-debian-packages.sh" "$DEBIAN_SUITE" etcd-server etcd-client) ||
    { echo "fetching etcd from Debian $DEBIAN_SUITE failed" >&2; exit 1; }
  while read -r pkg ver dir; do
    PATH=$dir/usr/bin:$PATH
    DEB_VERSION+="$pkg $ver (Debian $DEBIAN_SUITE)"$'\n'
  done <<<"$FETCHED"
  export PATH
  [[ $(command -v etcd) == *"/$DEBIAN_SUITE/etcd-server-"* ]] ||
    { echo "etcd on PATH is $(command -v etcd), not the fetched one" >&2; exit 1; }
elif ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server etcd-client
fi
ETCD_VER=$(etcd --version | awk 'NR == 1 { print $3 }')
case $ETCD_VER in
  3.4.*) OUT_DIR=${OUT_DIR:-$REPO/test/fixtures/etcd-3.4}; ETCD2_LOGGER=capnslog; LOG1=etcd-zap.log; LOG2=etcd-capnslog.log
    QUOTA_BYTES=${QUOTA_BYTES:-1048576}; AFTER_ALARM_S=${AFTER_ALARM_S:-18} ;;
  *) OUT_DIR=${OUT_DIR:-$REPO/test/fixtures/etcd-$ETCD_VER}; ETCD2_LOGGER=zap; LOG1=etcd1.log; LOG2=etcd2.log
    QUOTA_BYTES=${QUOTA_BYTES:-262144}; AFTER_ALARM_S=${AFTER_ALARM_S:-10} ;;
esac
HAVE_ETCDUTL=""
command -v etcdutl >/dev/null && HAVE_ETCDUTL=1
echo "etcd $ETCD_VER ($(command -v etcd)); etcd2 logger $ETCD2_LOGGER; etcdutl: ${HAVE_ETCDUTL:-no}; out $OUT_DIR"
command -v node >/dev/null || { echo "node is required (writer and timestamp helper)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required (free port picker)" >&2; exit 1; }

# ---- 2. ports, work dir, cleanup ------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/etcd-fixtures.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  touch "$WORK/stop" 2>/dev/null || true
  # stop in reverse start order, by PID only
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "${PIDS[i]}" 2>/dev/null || break; sleep 0.3; done
    kill -9 "${PIDS[i]}" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    echo "capture FAILED (rc=$rc); work dir kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

read -r C1 P1 C2 P2 < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(4):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
)
EP1=127.0.0.1:$C1
EP2=127.0.0.1:$C2
ALL=$EP1,$EP2
CLUSTER="etcd1=http://127.0.0.1:$P1,etcd2=http://127.0.0.1:$P2"
ts() { date +%Y-%m-%dT%H:%M:%S.%3N%:z; }
ctl() { etcdctl --dial-timeout=3s --command-timeout=10s "$@"; }

cd "$WORK"
mkdir -p out
TRANSCRIPT=$WORK/out/commands.txt
: >"$TRANSCRIPT"
# cap NAME CMD...: run an etcdctl command, stdout+stderr to out/NAME, and note it in the transcript.
cap() {
  local name=$1; shift
  local rc=0
  "$@" >"out/$name" 2>&1 || rc=$?
  printf '%s  $ %s  -> %s (exit %d)\n' "$(ts)" "$*" "$name" "$rc" >>"$TRANSCRIPT"
}

common_flags=(--initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token etcd-forensics-capture
  --quota-backend-bytes "$QUOTA_BYTES" --auto-compaction-retention 0 --snapshot-count 2000 --log-outputs stderr)
START_TS=$(ts)
etcd --name etcd1 --data-dir "$WORK/etcd1" \
  --listen-client-urls "http://$EP1" --advertise-client-urls "http://$EP1" \
  --listen-peer-urls "http://127.0.0.1:$P1" --initial-advertise-peer-urls "http://127.0.0.1:$P1" \
  "${common_flags[@]}" --logger zap 2>"$WORK/$LOG1" &
ETCD1_PID=$!; PIDS+=("$ETCD1_PID")
etcd --name etcd2 --data-dir "$WORK/etcd2" \
  --listen-client-urls "http://$EP2" --advertise-client-urls "http://$EP2" \
  --listen-peer-urls "http://127.0.0.1:$P2" --initial-advertise-peer-urls "http://127.0.0.1:$P2" \
  "${common_flags[@]}" --logger "$ETCD2_LOGGER" 2>"$WORK/$LOG2" &
ETCD2_PID=$!; PIDS+=("$ETCD2_PID")
echo "etcd1 (zap) pid $ETCD1_PID client $EP1 peer $P1; etcd2 ($ETCD2_LOGGER) pid $ETCD2_PID client $EP2 peer $P2; work $WORK"

for i in $(seq 1 60); do
  if ctl --endpoints="$ALL" endpoint health >/dev/null 2>&1; then break; fi
  [[ $i -eq 60 ]] && { echo "cluster did not become healthy" >&2; exit 1; }
  sleep 0.5
done
echo "cluster healthy at $(ts)"

# ---- 3. watch (truth of every write) --------------------------------------------------------------------
etcdctl --endpoints="$ALL" watch --prefix /service -w json \
  > >(node "$SCRIPT_DIR/etcd-fixtures-stamp.mjs" >"$WORK/watch.jsonl") 2>"$WORK/watch.stderr" &
WATCH_PID=$!; PIDS+=("$WATCH_PID")
sleep 0.5

# ---- 4. sampler -----------------------------------------------------------------------------------------
sampler() {
  while [[ ! -e "$WORK/stop" ]]; do
    { ts; ctl --endpoints="$ALL" endpoint status --cluster -w json 2>&1 || true; } >>"$WORK/status-samples.log"
    { ts; ctl --endpoints="$ALL" endpoint status --cluster -w table 2>&1 || true; } >>"$WORK/status-samples-table.log"
    { ts; ctl --endpoints="$ALL" endpoint health --cluster -w json 2>&1 || true; } >>"$WORK/health-samples.log"
    { ts; ctl --endpoints="$ALL" alarm list 2>&1 || true; } >>"$WORK/alarm-samples.log"
    sleep 2
  done
}
sampler &
SAMPLER_PID=$!; PIDS+=("$SAMPLER_PID")

# ---- 5. writer ------------------------------------------------------------------------------------------
WRITER_START_TS=$(ts)
node "$SCRIPT_DIR/patroni-shaped-writer.mjs" "$WORK/writer.log" "$EP1,$EP2" &
WRITER_PID=$!; PIDS+=("$WRITER_PID")

ALARM_TS=""
for i in $(seq 1 480); do
  if [[ -n "$(ctl --endpoints="$ALL" alarm list 2>/dev/null)" ]]; then ALARM_TS=$(ts); break; fi
  kill -0 "$WRITER_PID" 2>/dev/null || { echo "writer died" >&2; exit 1; }
  sleep 0.5
done
[[ -n "$ALARM_TS" ]] || { echo "no NOSPACE alarm within 240 s" >&2; exit 1; }
echo "NOSPACE alarm seen at $ALARM_TS; letting writes fail for ${AFTER_ALARM_S}s"
sleep "$AFTER_ALARM_S"

# ---- 6. capture every output format while the alarm is active -------------------------------------------
CAPTURE_TS=$(ts)
echo "capturing etcdctl outputs at $CAPTURE_TS"
printf '# captured while NOSPACE alarm active, starting %s\n' "$CAPTURE_TS" >>"$TRANSCRIPT"
for f in table json simple fields; do
  cap "endpoint-status.$f.txt" etcdctl --endpoints="$ALL" endpoint status --cluster -w "$f"
done
for f in table json simple fields; do
  cap "endpoint-health.$f.txt" etcdctl --endpoints="$ALL" endpoint health --cluster -w "$f"
done
for f in simple json fields table; do
  cap "alarm-list.$f.txt" etcdctl --endpoints="$ALL" alarm list -w "$f"
done
for f in table json simple fields; do
  cap "member-list.$f.txt" etcdctl --endpoints="$ALL" member list -w "$f"
done
cap snapshot-save-nospace.txt etcdctl --endpoints="$EP1" snapshot save snapshot-nospace.db
for f in table json simple fields; do
  cap "snapshot-status-nospace.$f.txt" etcdctl snapshot status snapshot-nospace.db -w "$f"
done
if [[ -n $HAVE_ETCDUTL ]]; then
  for f in table json simple fields; do
    cap "etcdutl-snapshot-status-nospace.$f.txt" etcdutl snapshot status snapshot-nospace.db -w "$f"
  done
fi
NOSPACE_REV=$(grep -o '"revision":[0-9]*' out/endpoint-status.json.txt | head -1 | cut -d: -f2)

# ---- 7. recovery ----------------------------------------------------------------------------------------
RECOVERY_TS=$(ts)
printf '# recovery, starting %s\n' "$RECOVERY_TS" >>"$TRANSCRIPT"
cap recovery-01-endpoint-status.json.txt etcdctl --endpoints="$EP1" endpoint status -w json
REV=$(grep -o '"revision":[0-9]*' out/recovery-01-endpoint-status.json.txt | head -1 | cut -d: -f2)
echo "compacting at revision $REV"
cap recovery-02-compact.txt etcdctl --endpoints="$ALL" compact "$REV"
cap recovery-03-endpoint-status-after-compact.table.txt etcdctl --endpoints="$ALL" endpoint status --cluster -w table
cap recovery-04-defrag-etcd1.txt etcdctl --endpoints="$EP1" defrag
cap recovery-05-defrag-etcd2.txt etcdctl --endpoints="$EP2" defrag
cap recovery-06-endpoint-status-after-defrag.table.txt etcdctl --endpoints="$ALL" endpoint status --cluster -w table
# An operator checks status before disarming. While the alarm is still active but the (now small) backend passes the
# API-level quota check, every put reaches apply and is logged as "failed to apply request ... no space".
sleep "$BEFORE_DISARM_S"
cap recovery-07-alarm-disarm.txt etcdctl --endpoints="$ALL" alarm disarm
cap recovery-08-alarm-list.txt etcdctl --endpoints="$ALL" alarm list
cap recovery-09-put.txt etcdctl --endpoints="$ALL" put /capture/recovery-check "written after alarm disarm"
cap recovery-10-endpoint-status.table.txt etcdctl --endpoints="$ALL" endpoint status --cluster -w table
cap recovery-10-endpoint-status.json.txt etcdctl --endpoints="$ALL" endpoint status --cluster -w json
RECOVERED_TS=$(ts)
echo "recovered at $RECOVERED_TS; writer continues ${AFTER_RECOVERY_S}s"
sleep "$AFTER_RECOVERY_S"

printf '# after recovery, starting %s\n' "$(ts)" >>"$TRANSCRIPT"
cap endpoint-status-recovered.table.txt etcdctl --endpoints="$ALL" endpoint status --cluster -w table
cap endpoint-status-recovered.json.txt etcdctl --endpoints="$ALL" endpoint status --cluster -w json
cap snapshot-save-recovered.txt etcdctl --endpoints="$EP1" snapshot save snapshot-recovered.db
for f in table json; do
  cap "snapshot-status-recovered.$f.txt" etcdctl snapshot status snapshot-recovered.db -w "$f"
done
if [[ -n $HAVE_ETCDUTL ]]; then
  for f in table json simple fields; do
    cap "etcdutl-snapshot-status-recovered.$f.txt" etcdutl snapshot status snapshot-recovered.db -w "$f"
  done
fi

# ---- 8. stop, collect -----------------------------------------------------------------------------------
END_TS=$(ts)
touch "$WORK/stop"
kill "$WRITER_PID"; wait "$WRITER_PID" || true
wait "$SAMPLER_PID" || true
kill "$WATCH_PID" 2>/dev/null || true; wait "$WATCH_PID" 2>/dev/null || true
sleep 0.5 # let the watch timestamp helper drain
# one member after the other, as an operator stopping the services would
kill "$ETCD2_PID" 2>/dev/null || true
wait "$ETCD2_PID" 2>/dev/null || true
kill "$ETCD1_PID" 2>/dev/null || true
wait "$ETCD1_PID" 2>/dev/null || true
PIDS=()

if [[ -n $HAVE_ETCDUTL ]]; then
  # Offline tools on the stopped members' data dirs: etcdutl defrag on etcd2's, etcdutl snapshot status on its db.
  printf '# offline, members stopped, starting %s\n' "$(ts)" >>"$TRANSCRIPT"
  cap etcdutl-defrag-etcd2.txt etcdutl defrag --data-dir "$WORK/etcd2"
  for f in table json; do
    cap "etcdutl-member-db-status-etcd2.$f.txt" etcdutl snapshot status "$WORK/etcd2/member/snap/db" -w "$f"
  done
fi

ETCD_VERSION=$(etcd --version)
ETCDCTL_VERSION=$(etcdctl version)
ETCDUTL_VERSION=""
# with its own trailing newline, so an empty value adds no blank line to the README
[[ -n $HAVE_ETCDUTL ]] && ETCDUTL_VERSION=$(printf '$ etcdutl version\n%s' "$(etcdutl version)")$'\n'
[[ -n $DEB_VERSION ]] || DEB_VERSION=$(dpkg-query -W -f '${Package} ${Version}\n' etcd-server etcd-client 2>/dev/null || true)

mkdir -p "$OUT_DIR"
find "$OUT_DIR" -maxdepth 1 -type f ! -name README.md -delete
cp out/* "$OUT_DIR/"
cp "$LOG1" "$LOG2" watch.jsonl writer.log status-samples.log status-samples-table.log \
  health-samples.log alarm-samples.log "$OUT_DIR/"
[[ -s watch.stderr ]] && cp watch.stderr "$OUT_DIR/watch.stderr.txt"
for db in snapshot-nospace.db snapshot-recovered.db; do
  if [[ -f $db && $(stat -c %s "$db") -lt 3000000 ]]; then cp "$db" "$OUT_DIR/"; fi
done

cat >"$OUT_DIR/capture-meta.env" <<EOF
# Written by scripts/capture/etcd-fixtures.sh; read by scripts/capture/derive-journald.sh.
TZ=$TZ
QUOTA_BYTES=$QUOTA_BYTES
CYCLE_MS=$CYCLE_MS
ETCD1_NAME=etcd1
ETCD1_LOGGER=zap
ETCD1_PID=$ETCD1_PID
ETCD1_CLIENT=$EP1
ETCD2_NAME=etcd2
ETCD2_LOGGER=$ETCD2_LOGGER
ETCD2_PID=$ETCD2_PID
ETCD2_CLIENT=$EP2
START=$START_TS
WRITER_START=$WRITER_START_TS
ALARM_SEEN=$ALARM_TS
CAPTURE=$CAPTURE_TS
NOSPACE_REVISION=$NOSPACE_REV
RECOVERY_START=$RECOVERY_TS
COMPACT_REVISION=$REV
RECOVERED=$RECOVERED_TS
END=$END_TS
EOF
if [[ $ETCD_VER != 3.4.* ]]; then
  cat >>"$OUT_DIR/capture-meta.env" <<EOF
ETCD_VERSION=$ETCD_VER
ETCD1_LOG=$LOG1
ETCD2_LOG=$LOG2
EOF
fi

ALARM_LOG_LINE=$(grep -m1 '"msg":"alarm raised"' "$LOG1" || true)
FAILED_ZAP=$(grep -c 'failed to apply request' "$LOG1" || true)
FAILED_CAPN=$(grep -c 'failed to apply request' "$LOG2" || true)
FIRST_FAILED=$(grep -m1 'failed to apply request' "$LOG1" | grep -o '"ts":"[^"]*"' || true)
LAST_FAILED=$(grep 'failed to apply request' "$LOG1" | tail -1 | grep -o '"ts":"[^"]*"' || true)
DISARM_LINE=$(grep -m1 '"msg":"alarm disarmed"' "$LOG1" || true)
if [[ $ETCD_VER == 3.4.* ]]; then
  TITLE_VER=3.4; RERUN='bash scripts/capture/etcd-fixtures.sh'; PKGS='Debian packages'
  ETCD2_DESC='`--logger capnslog --log-outputs stderr` → `etcd-capnslog.log`'
  ZONE_DESC='zap `ts` carries that offset, capnslog and raft lines are local time without offset'
  LOG2_ROW='| etcd-capnslog.log | etcd2 stderr, capnslog text `YYYY-MM-DD HH:MM:SS.ffffff L \| pkg: msg` and raft `raftYYYY/MM/DD HH:MM:SS LEVEL: …` lines |'
  HEALTH_NOTE=' (3.4 prints simple lines on stderr; captured 2>&1)'
  ETCDUTL_ROWS=''
else
  TITLE_VER=$ETCD_VER; RERUN="DEBIAN_SUITE=$DEBIAN_SUITE bash scripts/capture/etcd-fixtures.sh"; PKGS="Debian $DEBIAN_SUITE packages"
  ETCD2_DESC="\`--logger zap --log-outputs stderr\` → \`$LOG2\` (3.5 has no capnslog)"
  ZONE_DESC='zap `ts` carries that offset'
  LOG2_ROW="| $LOG2 | etcd2 stderr, zap JSON lines (plus any non-JSON start-up lines) |"
  HEALTH_NOTE=' (captured 2>&1)'
  ETCDUTL_ROWS='| etcdutl-snapshot-status-{nospace,recovered}.{table,json,simple,fields}.txt | `etcdutl snapshot status <snapshot> -w …` |
| etcdutl-defrag-etcd2.txt | `etcdutl defrag --data-dir <etcd2 data dir>` after both members were stopped (offline defrag) |
| etcdutl-member-db-status-etcd2.{table,json}.txt | `etcdutl snapshot status <etcd2 data dir>/member/snap/db -w …` after that defrag |
'
fi
ALARM_FIELDS_RC=$(grep -o 'alarm-list.fields.txt (exit [0-9]*)' out/commands.txt || true)
WRITER_SUMMARY=$(grep ' summary ' writer.log | sed 's/^[^ ]* summary //' || true)

cat >"$OUT_DIR/README.md" <<EOF
# Real etcd $TITLE_VER NOSPACE capture

Everything in this directory was **printed by real programs** (etcd/etcdctl $ETCD_VER,
$PKGS) during one run of \`scripts/capture/etcd-fixtures.sh\`. Nothing is hand-written except this README,
which the script generates. Re-run with \`$RERUN\` (about 3 minutes; it replaces the files).

## Setup
- 2-member cluster on 127.0.0.1, started $START_TS:
  - \`etcd1\` (pid $ETCD1_PID, client http://$EP1): \`--logger zap --log-outputs stderr\` → \`$LOG1\`
  - \`etcd2\` (pid $ETCD2_PID, client http://$EP2): $ETCD2_DESC
  - both: \`--quota-backend-bytes $QUOTA_BYTES --auto-compaction-retention 0 --snapshot-count 2000\`
- All processes ran with \`TZ=$TZ\`: $ZONE_DESC,
  the \`date\` marker lines in the sample files carry the offset.
- Writer: \`scripts/capture/patroni-shaped-writer.mjs\` (etcd v3 JSON gateway, as Patroni's etcd3 DCS uses), scope
  \`pg_demo\`, namespace \`/service\`. One lease (TTL 30 s, keepalive every 5 s) per node. \`initialize\` and \`leader\`
  (node1's lease) are created once by txn create-if-absent, \`config\` once by put; each cycle (every ${CYCLE_MS} ms, a
  time-compressed HA loop) puts \`members/node1..3\` (~190-byte JSON, with the node's lease) and \`status\` (\`{"optime":N}\`).
  node1 and node3 and status go to etcd1, node2 to etcd2.

## Versions
\`\`\`
$ etcd --version
$ETCD_VERSION
$ etcdctl version
$ETCDCTL_VERSION
$ETCDUTL_VERSION$DEB_VERSION
\`\`\`

## Timeline ($TZ)
| when | what |
|---|---|
| $START_TS | members started |
| $WRITER_START_TS | writer started |
| $ALARM_TS | \`etcdctl alarm list\` first non-empty (polled every 0.5 s) |
| $CAPTURE_TS | etcdctl outputs captured (alarm active), store revision $NOSPACE_REV |
| $RECOVERY_TS | recovery started: compact $REV, defrag etcd1, defrag etcd2, ${BEFORE_DISARM_S} s pause, alarm disarm |
| $RECOVERED_TS | recovery done, put succeeds; writer keeps running ${AFTER_RECOVERY_S} s |
| $END_TS | everything stopped |

First alarm line in $LOG1:
\`\`\`
$ALARM_LOG_LINE
\`\`\`
\`alarm disarmed\` in $LOG1:
\`\`\`
$DISARM_LINE
\`\`\`
\`failed to apply request\` lines: $LOG1 $FAILED_ZAP, $LOG2 $FAILED_CAPN; in $LOG1 the first
has $FIRST_FAILED and the last $LAST_FAILED. Compare with the writer's failed puts below: puts rejected by the API-level
quota check (backend size + request cost >= quota, answered \`etcdserver: mvcc: database space exceeded\`, HTTP 429
from the gateway) are not logged by etcd at all. etcd logs \`failed to apply request\` only for requests that reached
apply: (a) when present, puts whose apply found the backend over quota, logged with \`"response":"size:5"\` next to
\`message exceeded backend quota; raising alarm\`: those puts WERE stored (see watch.jsonl) although the client may
have been told \`database space exceeded\`; (b) puts that pass the API check while the alarm is set, here after the
defrags shrank the backend and before \`alarm disarm\`.

\`alarm list -w fields\`: $ALARM_FIELDS_RC (etcdctl $ETCD_VER output kept as printed).

Writer summary (attempted/ok/failed per key; the watch is the truth of what was stored):
\`\`\`
$WRITER_SUMMARY
\`\`\`

## Files
| file | what |
|---|---|
| $LOG1 | etcd1 stderr, zap JSON lines (plus any non-JSON start-up lines) |
$LOG2_ROW
| watch.jsonl | \`etcdctl watch --prefix /service -w json\`; each line is \`<local ISO time with ms and offset> <one WatchResponse JSON>\` (keys/values base64, ids as bare uint64) |
| writer.log | one line per writer request: \`<time> <op> <key> -> <endpoint> ok revision=N …\` or \`FAIL http=… code=… error=…\`, lease grants/keepalives, final \`summary {json}\` |
| status-samples.log | every ~2 s: a \`date +%Y-%m-%dT%H:%M:%S.%3N%:z\` line, then \`etcdctl endpoint status --cluster -w json\` (stdout+stderr) |
| status-samples-table.log | same loop, \`-w table\` |
| health-samples.log | same loop, \`etcdctl endpoint health --cluster -w json\` |
| alarm-samples.log | same loop, \`etcdctl alarm list\` (empty until the alarm) |
| endpoint-status.{table,json,simple,fields}.txt | \`endpoint status --cluster -w …\` during the alarm |
| endpoint-health.{table,json,simple,fields}.txt | \`endpoint health --cluster -w …\` during the alarm$HEALTH_NOTE |
| alarm-list.{simple,json,fields,table}.txt | \`alarm list -w …\` during the alarm (table is unsupported: the error is the output) |
| member-list.{table,json,simple,fields}.txt | \`member list -w …\` |
| snapshot-save-nospace.txt | stdout+stderr of \`etcdctl snapshot save snapshot-nospace.db\` during the alarm (zap lines with epoch \`ts\`) |
| snapshot-nospace.db | that snapshot (bbolt file + 32-byte sha256 trailer), if under 3 MB |
| snapshot-status-nospace.{table,json,simple,fields}.txt | \`snapshot status snapshot-nospace.db -w …\` |
| recovery-01 … recovery-10 | each recovery command's output in order (status json → revision, compact, status, defrag etcd1, defrag etcd2, status, alarm disarm, alarm list, put, status) |
| endpoint-status-recovered.{table,json}.txt | \`endpoint status --cluster\` ${AFTER_RECOVERY_S} s after recovery |
| snapshot-save-recovered.txt, snapshot-recovered.db, snapshot-status-recovered.{table,json}.txt | snapshot after compaction+defrag |
$ETCDUTL_ROWS| commands.txt | transcript: time, exact command, output file, exit code of every captured etcdctl command |
| capture-meta.env | machine-readable timeline, pids, ports, quota (used by derive-journald.sh) |
| watch.stderr.txt | stderr of the watch, only if it printed anything |
EOF

du -sh "$OUT_DIR"
echo "done: $OUT_DIR (alarm $ALARM_TS, revision at capture $NOSPACE_REV, compact $REV)"
