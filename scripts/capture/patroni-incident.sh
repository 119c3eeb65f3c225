#!/usr/bin/env bash
# Real Patroni + etcd NOSPACE incident on 127.0.0.1: etcd members with a tiny --quota-backend-bytes
# and no auto-compaction, Patroni 3.0.2 nodes running PostgreSQL 15 (as the `postgres` user), a light
# write load on the primary, samples of etcdctl every ~3 s, the /service watch as ground truth, the
# NOSPACE alarm, an optional leader stop + restart under NOSPACE, the recovery runbook
# (compact, defrag each member, alarm disarm), and Patroni's recovery. Everything it starts is
# stopped by PID on exit, pass or fail.
#
#   bash scripts/capture/patroni-incident.sh                               # 3 etcd + 3 Patroni
#   ETCD_MEMBERS=1 PATRONI_NODES=1 OUT_DIR=/tmp/x bash scripts/capture/patroni-incident.sh
#   DEBIAN_SUITE=trixie LOG_FORM=json OUT_DIR=/tmp/x bash scripts/capture/patroni-incident.sh
#
# DEBIAN_SUITE (default empty: the system's Patroni and etcd): run Patroni, etcd and etcdctl of that Debian suite
# (trixie: Patroni 4.0.7 + etcd 3.5.16; sid: Patroni 4.1.5 + etcd 3.5.30), fetched and unpacked by
# scripts/fetch-debian-packages.sh (the system's apt state untouched; python-json-logger comes along for
# LOG_FORM=json). Patroni then runs as /usr/bin/python3 <unpacked>/usr/bin/patroni with the unpacked
# dist-packages on PYTHONPATH (copied into the work dir so the postgres user can read them).
# LOG_FORM: default (Patroni's plain default format), json (`log.type: json`, Patroni 3.3+), or custom
# (`log.format: '[%(asctime)s][%(levelname)s] %(message)s'`); every node logs in that form.
#
# Why a filler: Patroni alone writes ~300 bytes per revision a few times per second, so even a
# 4 MiB quota would take about an hour. A filler writes /filler (outside /service) until the
# backend is HEADROOM_BYTES below the quota and then stops, so the write that trips the alarm and
# every rejected write after it are Patroni's own.
set -euo pipefail

ETCD_MEMBERS=${ETCD_MEMBERS:-3}
PATRONI_NODES=${PATRONI_NODES:-3}
QUOTA_BYTES=${QUOTA_BYTES:-$((6 * 1024 * 1024))}
HEADROOM_BYTES=${HEADROOM_BYTES:-$((24576 + 16384 * PATRONI_NODES))} # filler stops this far below the quota
# Small values (several per bbolt page) fragment the freelist far less than multi-page values, so
# the backend's size tracks its in-use size and Patroni's own writes soon reach the quota.
FILLER_VALUE_BYTES=${FILLER_VALUE_BYTES:-900}
FILLER_BATCH=${FILLER_BATCH:-40}
# Within FILLER_FINE_BYTES of its stop size the filler writes FILLER_FINE_BATCH values per txn, so
# its last txn cannot carry the backend past the quota when HEADROOM_BYTES is small (one txn of
# FILLER_BATCH values grew a 3 MiB backend by more than 45 KiB). 0 (default): no fine phase.
FILLER_FINE_BYTES=${FILLER_FINE_BYTES:-0}
FILLER_FINE_BATCH=${FILLER_FINE_BATCH:-4}
LOOP_WAIT=${LOOP_WAIT:-1}
TTL=${TTL:-10}
RETRY_TIMEOUT=${RETRY_TIMEOUT:-3}
AFTER_ALARM_SECONDS=${AFTER_ALARM_SECONDS:-40}
MAX_ALARM_WAIT_SECONDS=${MAX_ALARM_WAIT_SECONDS:-900}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-3}
# Stop the leader's Patroni under NOSPACE (replicas then fail the leader race), and restart it
# (it then loops on refresh_lease / waiting on etcd). Default on when there are replicas.
FAILOVER_UNDER_NOSPACE=${FAILOVER_UNDER_NOSPACE:-$([ "$PATRONI_NODES" -ge 2 ] && echo 1 || echo 0)}
LEADERLESS_SECONDS=${LEADERLESS_SECONDS:-25}
RESTART_SECONDS=${RESTART_SECONDS:-15}
RECOVERY_SECONDS=${RECOVERY_SECONDS:-20}
RECOVERY_MAX_SECONDS=${RECOVERY_MAX_SECONDS:-90}
SNAPSHOT_KEEP_BYTES=${SNAPSHOT_KEEP_BYTES:-3145728} # keep the (gzipped) snapshot only below this
SCOPE=${SCOPE:-pg_demo}
NAMESPACE=${NAMESPACE:-/service}
# Node (1-based) that logs with pigsty's dateformat '%Y-%m-%d %H:%M:%S %z', in PIGSTY_TZ; 0 = none.
DATEFORMAT_NODE=${DATEFORMAT_NODE:-$([ "$PATRONI_NODES" -ge 2 ] && echo 2 || echo 0)}
PIGSTY_TZ=${PIGSTY_TZ:-Asia/Shanghai}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DEBIAN_SUITE=${DEBIAN_SUITE:-}
LOG_FORM=${LOG_FORM:-default}
CUSTOM_LOG_FORMAT='[%(asctime)s][%(levelname)s] %(message)s'
case $LOG_FORM in
  default) LEVEL_RE=' (INFO|ERROR|WARNING): '; NO_ACTION_RE='INFO: no action\.' ;;
  json) LEVEL_RE='"levelname": "(INFO|ERROR|WARNING)"'; NO_ACTION_RE='"levelname": "INFO", "message": "no action\.' ;;
  custom) LEVEL_RE='\]\[(INFO|ERROR|WARNING)\] '; NO_ACTION_RE='\[INFO\] no action\.' ;;
  *) echo "LOG_FORM must be default, json or custom" >&2; exit 2 ;;
esac
[ "$LOG_FORM" = default ] || DATEFORMAT_NODE=${DATEFORMAT_NODE_OVERRIDE:-0}
PATRONI_CMD=(patroni)
PATRONI_PYTHONPATH=""
PATRONI_DEB=""
OUT_DIR=${OUT_DIR:-samples/patroni-nospace}

log() { printf '%s capture: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
stamp() { date -Is; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------------------------
# Packages
fetch_suite() {
  local fetched pkg ver dir
  fetched=$(bash "$(dirname "${BASH_SOURCE[0]}")/../fetch-debian-packages.sh" "$DEBIAN_SUITE" \
    etcd-server etcd-client patroni python3-pythonjsonlogger) || die "fetching from Debian $DEBIAN_SUITE failed"
  while read -r pkg ver dir; do
    case $pkg in
      etcd-server | etcd-client) PATH=$dir/usr/bin:$PATH ;;
      patroni) PATRONI_DIR=$dir; PATRONI_DEB="$ver (Debian $DEBIAN_SUITE)" ;;
      python3-pythonjsonlogger) JSONLOGGER_DIR=$dir ;;
    esac
  done <<<"$fetched"
  export PATH
  [[ $(command -v etcd) == *"/$DEBIAN_SUITE/etcd-server-"* ]] || die "etcd on PATH is not the fetched one"
}

# After WORK exists: the unpacked Patroni and python-json-logger, readable by the postgres user.
stage_suite_patroni() {
  [ -n "$DEBIAN_SUITE" ] || return 0
  mkdir -p "$WORK/lib/patroni" "$WORK/lib/jsonlogger"
  cp -a "$PATRONI_DIR/usr/lib/python3/dist-packages/." "$WORK/lib/patroni/"
  cp -a "$PATRONI_DIR/usr/bin/patroni" "$WORK/lib/patroni-script"
  cp -a "$JSONLOGGER_DIR/usr/lib/python3/dist-packages/." "$WORK/lib/jsonlogger/"
  chmod -R a+rX "$WORK/lib"
  PATRONI_CMD=(/usr/bin/python3 "$WORK/lib/patroni-script")
  PATRONI_PYTHONPATH="$WORK/lib/patroni:$WORK/lib/jsonlogger"
}

ensure_packages() {
  [ -z "$DEBIAN_SUITE" ] || fetch_suite
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v etcdctl >/dev/null || missing+=(etcd-client)
  [ -n "$DEBIAN_SUITE" ] || command -v patroni >/dev/null || missing+=(patroni)
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
  command -v jq >/dev/null || missing+=(jq)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# ---------------------------------------------------------------------------------------------
# State and cleanup: every process we start is recorded by PID and stopped in cleanup().
WORK=""
PIDS_AUX=()              # filler, load, sampler, watch
declare -A PATRONI_PID=() ETCD_PID=()
ALARM_SEEN=0

stop_pid() { # pid timeout_s
  local pid=$1 t=${2:-15} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  log "cleanup (exit $rc)"
  for pid in "${PIDS_AUX[@]}"; do stop_pid "$pid" 5; done
  stop_patroni_nodes
  # A Patroni killed hard leaves its postmaster behind: stop it through its own pid file.
  if [ -n "$WORK" ]; then
    for d in "$WORK"/pg*/data; do
      [ -f "$d/postmaster.pid" ] || continue
      setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/pg_ctl" stop -D "$d" -m fast -w -t 20 >/dev/null 2>&1
      if [ -f "$d/postmaster.pid" ]; then stop_pid "$(head -1 "$d/postmaster.pid")" 10; fi
    done
  fi
  for m in "${!ETCD_PID[@]}"; do stop_pid "${ETCD_PID[$m]}" 15; done
  collect_logs
  if [ -n "$WORK" ] && [ -d "$WORK" ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Ports: ask the kernel for all of them at once (sockets held open until all are assigned).
free_ports() { # count
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(('127.0.0.1', 0)); socks.append(s)
print(' '.join(str(s.getsockname()[1]) for s in socks))
PY
}

ETCDCTL() { ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINTS" --command-timeout=5s "$@"; }
ETCDCTL_AT() { local ep=$1; shift; ETCDCTL_API=3 etcdctl --endpoints="$ep" --command-timeout=30s "$@"; }

# ---------------------------------------------------------------------------------------------
start_etcd() {
  local i initial=""
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do
    initial+="${initial:+,}etcd$i=http://127.0.0.1:${PEER_PORT[$i]}"
  done
  mkdir -p "$OUT_DIR/etcd"
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do
    local args=(--name "etcd$i" --data-dir "$WORK/etcd$i"
      --listen-client-urls "http://127.0.0.1:${CLIENT_PORT[$i]}"
      --advertise-client-urls "http://127.0.0.1:${CLIENT_PORT[$i]}"
      --listen-peer-urls "http://127.0.0.1:${PEER_PORT[$i]}"
      --initial-advertise-peer-urls "http://127.0.0.1:${PEER_PORT[$i]}"
      --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token nospace-lab
      --quota-backend-bytes "$QUOTA_BYTES")
    # Mixed logging on purpose: member 1 logs zap JSON, the others 3.4's default capnslog text.
    [ "$i" = 1 ] && args+=(--logger=zap --log-outputs=stderr)
    etcd "${args[@]}" >"$OUT_DIR/etcd/etcd$i.log" 2>&1 &
    ETCD_PID[$i]=$!
  done
  local t
  for ((t = 0; t < 300; t++)); do
    ETCDCTL endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "etcd did not become healthy"
}

write_patroni_config() { # node index
  local i=$1 dir="$WORK/pg$1"
  mkdir -p "$dir/log" "$dir/sock"
  chmod 700 "$dir"
  local hosts="" m
  for ((m = 1; m <= ETCD_MEMBERS; m++)); do hosts+="${hosts:+,}127.0.0.1:${CLIENT_PORT[$m]}"; done
  local datefmt=""
  [ "$i" = "$DATEFORMAT_NODE" ] && datefmt="  dateformat: '%Y-%m-%d %H:%M:%S %z'"
  case $LOG_FORM in
    json) datefmt+=$'\n  type: json' ;;
    custom) datefmt+=$'\n'"  format: '$CUSTOM_LOG_FORMAT'" ;;
  esac
  cat >"$dir/patroni.yml" <<YML
scope: $SCOPE
namespace: $NAMESPACE
name: pg$i
restapi:
  listen: 127.0.0.1:${REST_PORT[$i]}
  connect_address: 127.0.0.1:${REST_PORT[$i]}
etcd3:
  hosts: $hosts
log:
  level: INFO
  dir: $dir/log
$datefmt
bootstrap:
  dcs:
    ttl: $TTL
    loop_wait: $LOOP_WAIT
    retry_timeout: $RETRY_TIMEOUT
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 64MB
  initdb:
    - encoding: UTF8
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 md5
    - host all all 127.0.0.1/32 md5
postgresql:
  listen: 127.0.0.1:${PG_PORT[$i]}
  connect_address: 127.0.0.1:${PG_PORT[$i]}
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  authentication:
    replication: {username: replicator, password: rep-pass}
    superuser: {username: postgres, password: pg-pass}
    rewind: {username: rewind_user, password: rewind-pass}
  parameters:
    unix_socket_directories: $dir/sock
    shared_buffers: 32MB
tags: {}
YML
  chown -R postgres:postgres "$dir"
}

start_patroni() { # node index
  local i=$1 tz=()
  [ "$i" = "$DATEFORMAT_NODE" ] && tz=(TZ="$PIGSTY_TZ")
  # stdout/stderr: PostgreSQL's own stderr lines (Patroni's postmaster inherits them) and anything
  # Python prints outside the logging module. Patroni's records go to <log.dir>/patroni.log.
  # A simple command (not a function) in the background, so $! is Patroni's own PID: setpriv and
  # env exec, they do not fork.
  local pp=()
  [ -z "$PATRONI_PYTHONPATH" ] || pp=(PYTHONPATH="$PATRONI_PYTHONPATH")
  setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME="$WORK" "${tz[@]}" "${pp[@]}" \
    "${PATRONI_CMD[@]}" "$WORK/pg$i/patroni.yml" >>"$WORK/pg$i/stderr.log" 2>&1 &
  PATRONI_PID[$i]=$!
  log "patroni pg$i pid ${PATRONI_PID[$i]}"
}

leader_name() { ETCDCTL get --print-value-only "$NAMESPACE/$SCOPE/leader" 2>/dev/null || true; }

running_members() {
  ETCDCTL get --prefix --print-value-only "$NAMESPACE/$SCOPE/members/" 2>/dev/null | grep -c '"state": *"running"' || true
}

wait_for_cluster() {
  local t
  for ((t = 0; t < 300; t++)); do
    if [ -n "$(leader_name)" ] && [ "$(running_members)" -ge "$PATRONI_NODES" ]; then return 0; fi
    sleep 1
  done
  die "no leader with $PATRONI_NODES running members after 300 s"
}

# ---------------------------------------------------------------------------------------------
# Background workers
start_watch() {
  # Each line: local ISO time with ms, a space, then etcdctl's JSON watch response.
  # etcdctl itself is the background command, so $! is its PID; the reader ends at its EOF.
  ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINTS" watch --prefix "$NAMESPACE" -w json > >(
    while IFS= read -r line; do
      t=$EPOCHREALTIME
      printf '%(%Y-%m-%dT%H:%M:%S)T.%s%s %s\n' "${t%.*}" "$(printf '%.3s' "${t#*.}")" "$(date +%:z)" "$line"
    done >>"$OUT_DIR/watch-service.jsonl"
  ) 2>>"$OUT_DIR/watch-service.stderr" &
  PIDS_AUX+=($!)
}

sample_once() {
  local s
  s=$(stamp)
  { echo "$s"; ETCDCTL endpoint status --cluster -w json 2>&1; echo; } >>"$OUT_DIR/samples/endpoint-status.json.txt"
  { echo "$s"; ETCDCTL endpoint status --cluster -w table 2>&1; } >>"$OUT_DIR/samples/endpoint-status.table.txt"
  { echo "$s"; ETCDCTL endpoint health --cluster -w json 2>&1; echo; } >>"$OUT_DIR/samples/endpoint-health.json.txt"
  { echo "$s"; ETCDCTL endpoint health --cluster -w table 2>&1; } >>"$OUT_DIR/samples/endpoint-health.table.txt"
  { echo "$s"; ETCDCTL alarm list 2>&1; } >>"$OUT_DIR/samples/alarm-list.txt"
}

start_sampler() {
  mkdir -p "$OUT_DIR/samples"
  ( while :; do sample_once; sleep "$SAMPLE_SECONDS"; done ) &
  PIDS_AUX+=($!)
}

db_size() { ETCDCTL endpoint status -w json 2>/dev/null | jq '[.[].Status.dbSize] | max // 0'; }

start_filler() {
  local target=$((QUOTA_BYTES - HEADROOM_BYTES))
  (
    n=0
    value=$(head -c "$FILLER_VALUE_BYTES" /dev/zero | tr '\0' 'f') # compressible: the snapshot gzips well
    while :; do
      size=$(db_size)
      # A status call that failed (a slow member under load) says nothing: read again rather than take 0
      # and write a full batch past the quota (the e2e test's "filler stopped below the quota" flake).
      if [ -z "$size" ] || [ "$size" = 0 ]; then sleep 0.2; continue; fi
      [ "${size:-0}" -ge "$target" ] && { echo "$(stamp) filler stopped at dbSize $size after $n puts" >>"$WORK/filler.log"; exit 0; }
      batch=$FILLER_BATCH
      [ "${size:-0}" -lt $((target - FILLER_FINE_BYTES)) ] || batch=$FILLER_FINE_BATCH
      # stdin: compares (none), blank line, success ops, blank line, failure ops (none), blank line.
      # One txn of $batch puts to distinct keys (a txn may not put one key twice).
      {
        echo
        for ((j = 0; j < batch; j++)); do echo "put /filler/$j $value"; done
        echo; echo # end of the success ops, empty failure ops
      } | ETCDCTL txn >/dev/null 2>>"$WORK/filler.log" || exit 0
      n=$((n + batch))
    done
  ) &
  FILLER_PID=$!
  PIDS_AUX+=($FILLER_PID)
}

start_load() {
  (
    export PGPASSWORD=pg-pass
    psql_q() { psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$2"; }
    created=""
    while :; do
      # Follow the leader key, so the load moves with a failover.
      leader=$(leader_name)
      port=""
      [[ "$leader" =~ ^pg[0-9]+$ ]] && port=${PG_PORT[${leader#pg}]:-} # no leader key while leaderless
      if [ -n "$port" ]; then
        [ -n "$created" ] || { psql_q "$port" 'CREATE TABLE IF NOT EXISTS load (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), pad text)' && created=1; } || true
        psql_q "$port" "INSERT INTO load (pad) VALUES (repeat('x', 200))" || true
      fi
      sleep 1
    done
  ) >>"$WORK/load.log" 2>&1 &
  PIDS_AUX+=($!)
}

# ---------------------------------------------------------------------------------------------
# Recovery runbook: every command's output in recovery/NN-name.txt after a timestamp line, and the
# whole sequence in recovery/transcript.txt as `$ command` / output.
STEP=0
run_step() { # name command...
  local name=$1; shift
  STEP=$((STEP + 1))
  local f="$OUT_DIR/recovery/$(printf '%02d' $STEP)-$name.txt" s rc=0
  s=$(stamp)
  { echo "$s"; "$@" 2>&1 || rc=$?; } >"$f"
  local shown="etcdctl ${*:2}"
  [ "$1" = ETCDCTL_AT ] && shown="etcdctl --endpoints=$2 ${*:3}"
  { echo "$s"; echo "\$ $shown"; tail -n +2 "$f"; [ $rc = 0 ] || echo "(exit $rc)"; echo; } >>"$OUT_DIR/recovery/transcript.txt"
  return 0
}

run_recovery() {
  mkdir -p "$OUT_DIR/recovery"
  run_step endpoint-status-json ETCDCTL endpoint status --cluster -w json
  run_step endpoint-status-table ETCDCTL endpoint status --cluster -w table
  local rev
  rev=$(sed 1d "$OUT_DIR/recovery/01-endpoint-status-json.txt" | jq '[.[].Status.header.revision] | max')
  log "compact to revision $rev"
  run_step compact ETCDCTL compact "$rev"
  local m
  for ((m = 1; m <= ETCD_MEMBERS; m++)); do
    run_step "defrag-etcd$m" ETCDCTL_AT "http://127.0.0.1:${CLIENT_PORT[$m]}" defrag
  done
  run_step endpoint-status-after-defrag ETCDCTL endpoint status --cluster -w table
  run_step alarm-list-before-disarm ETCDCTL alarm list
  run_step alarm-disarm ETCDCTL alarm disarm
  run_step alarm-list-after-disarm ETCDCTL alarm list
  run_step endpoint-status-after-disarm ETCDCTL endpoint status --cluster -w json
  run_step endpoint-health-after-disarm ETCDCTL endpoint health --cluster -w table
}

# True once every running node's last HA result since the disarm is a clean `no action.` with no
# ERROR logged in the last LOOP_WAIT*3 seconds of its log.
patroni_clean() {
  local i f last
  for i in "${!PATRONI_PID[@]}"; do
    kill -0 "${PATRONI_PID[$i]}" 2>/dev/null || continue
    f="$WORK/pg$i/log/patroni.log"
    last=$(grep -E "$LEVEL_RE" "$f" | tail -n 3)
    echo "$last" | tail -n 1 | grep -q -E "$NO_ACTION_RE" || return 1
    echo "$last" | grep -q 'ERROR' && return 1
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
main() {
  ensure_packages
  [ -x "$PG_BIN/postgres" ] || die "no PostgreSQL 15 in $PG_BIN"
  id postgres >/dev/null 2>&1 || die "no postgres user"
  rm -rf "$OUT_DIR"
  mkdir -p "$OUT_DIR"
  OUT_DIR=$(cd "$OUT_DIR" && pwd)
  WORK=$(mktemp -d /tmp/patroni-nospace.XXXXXX)
  chmod 755 "$WORK"
  stage_suite_patroni
  local T_START
  T_START=$(stamp)

  local ports i k=0
  read -r -a ports <<<"$(free_ports $((2 * ETCD_MEMBERS + 2 * PATRONI_NODES)))"
  declare -gA CLIENT_PORT=() PEER_PORT=() REST_PORT=() PG_PORT=()
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do CLIENT_PORT[$i]=${ports[k++]}; PEER_PORT[$i]=${ports[k++]}; done
  for ((i = 1; i <= PATRONI_NODES; i++)); do REST_PORT[$i]=${ports[k++]}; PG_PORT[$i]=${ports[k++]}; done
  ENDPOINTS=""
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do ENDPOINTS+="${ENDPOINTS:+,}http://127.0.0.1:${CLIENT_PORT[$i]}"; done
  log "etcd endpoints $ENDPOINTS, work dir $WORK"

  start_etcd
  start_watch
  start_sampler
  for ((i = 1; i <= PATRONI_NODES; i++)); do write_patroni_config "$i"; done
  start_patroni 1
  # Let node 1 bootstrap before the replicas join, so the bootstrap race is not part of the story.
  for ((i = 0; i < 120; i++)); do [ -n "$(leader_name)" ] && break; sleep 1; done
  for ((i = 2; i <= PATRONI_NODES; i++)); do start_patroni "$i"; done
  wait_for_cluster
  local T_CLUSTER LEADER
  T_CLUSTER=$(stamp)
  LEADER=$(leader_name)
  log "leader $LEADER, $(running_members) members running"
  start_load
  start_filler

  local T_ALARM="" t0
  t0=$(date +%s)
  while :; do
    if ETCDCTL alarm list 2>/dev/null | grep -q NOSPACE; then T_ALARM=$(stamp); break; fi
    [ $(($(date +%s) - t0)) -lt "$MAX_ALARM_WAIT_SECONDS" ] || die "no NOSPACE alarm after $MAX_ALARM_WAIT_SECONDS s (dbSize $(db_size))"
    sleep 1
  done
  ALARM_SEEN=1
  log "NOSPACE alarm seen by alarm list at $T_ALARM"
  stop_pid "$FILLER_PID" 5
  sleep "$AFTER_ALARM_SECONDS"

  local T_LEADER_STOP="" T_LEADER_RESTART="" stopped=""
  if [ "$FAILOVER_UNDER_NOSPACE" = 1 ] && [ "$PATRONI_NODES" -ge 2 ]; then
    stopped=$(leader_name)
    stopped=${stopped#pg}
    [ -n "$stopped" ] || stopped=1
    T_LEADER_STOP=$(stamp)
    log "stopping the leader's Patroni (pg$stopped) under NOSPACE"
    stop_pid "${PATRONI_PID[$stopped]}" 60
    sleep "$LEADERLESS_SECONDS"
    T_LEADER_RESTART=$(stamp)
    log "restarting pg$stopped under NOSPACE"
    start_patroni "$stopped"
    sleep "$RESTART_SECONDS"
  fi

  log "snapshot"
  # snapshot save talks to one member only.
  ETCDCTL_AT "http://127.0.0.1:${CLIENT_PORT[1]}" snapshot save "$WORK/snapshot.bin" >"$OUT_DIR/snapshot-save.txt" 2>&1 || true
  { stamp; ETCDCTL snapshot status "$WORK/snapshot.bin" -w json 2>&1 || true; echo; } >"$OUT_DIR/snapshot-status.json.txt"
  { stamp; ETCDCTL snapshot status "$WORK/snapshot.bin" -w table 2>&1 || true; } >"$OUT_DIR/snapshot-status.table.txt"
  if [ -f "$WORK/snapshot.bin" ]; then
    gzip -9 -c "$WORK/snapshot.bin" >"$WORK/snapshot.bin.gz"
    if [ "$(stat -c %s "$WORK/snapshot.bin.gz")" -le "$SNAPSHOT_KEEP_BYTES" ]; then
      cp "$WORK/snapshot.bin.gz" "$OUT_DIR/snapshot.bin.gz"
    fi
    echo "raw size $(stat -c %s "$WORK/snapshot.bin") bytes, gzip $(stat -c %s "$WORK/snapshot.bin.gz") bytes" >>"$OUT_DIR/snapshot-save.txt"
  fi

  log "recovery runbook"
  local T_RECOVERY_START T_DISARM T_CLEAN=""
  T_RECOVERY_START=$(stamp)
  run_recovery
  T_DISARM=$(head -1 "$OUT_DIR"/recovery/*-alarm-disarm.txt)
  sleep "$RECOVERY_SECONDS"
  t0=$(date +%s)
  while [ $(($(date +%s) - t0)) -lt "$RECOVERY_MAX_SECONDS" ]; do
    if patroni_clean; then T_CLEAN=$(stamp); break; fi
    sleep 2
  done
  log "patroni clean at ${T_CLEAN:-never}"
  local T_END
  T_END=$(stamp)
  sleep 1

  # Stop the background workers and Patroni now so the copied logs are complete.
  for pid in "${PIDS_AUX[@]}"; do stop_pid "$pid" 5; done
  PIDS_AUX=()
  stop_patroni_nodes
  collect_logs
  write_readme
}

# Replicas first, the leader last: stopping the leader first would make a replica take the lock
# (a failover caused by the capture itself, not by the incident).
stop_patroni_nodes() {
  local leader n
  leader=$(leader_name)
  for n in "${!PATRONI_PID[@]}"; do [ "pg$n" = "$leader" ] || stop_pid "${PATRONI_PID[$n]}" 40; done
  for n in "${!PATRONI_PID[@]}"; do stop_pid "${PATRONI_PID[$n]}" 40; done
}

# Patroni's logs, its stdout/stderr and its config (passwords redacted) into OUT_DIR. Also run from
# cleanup() after a failure, so a failed run can be read.
LOGS_COLLECTED=0
collect_logs() {
  [ "$LOGS_COLLECTED" = 0 ] && [ -n "$WORK" ] || return 0
  LOGS_COLLECTED=1
  local i
  for ((i = 1; i <= PATRONI_NODES; i++)); do
    [ -d "$WORK/pg$i" ] || continue
    mkdir -p "$OUT_DIR/patroni/pg$i"
    cp "$WORK/pg$i/log/"patroni.log* "$OUT_DIR/patroni/pg$i/" 2>/dev/null || true
    cp "$WORK/pg$i/stderr.log" "$OUT_DIR/patroni/pg$i/stderr.log" 2>/dev/null || true
    sed -e 's/password: [^}]*/password: <redacted>/' "$WORK/pg$i/patroni.yml" >"$OUT_DIR/patroni/pg$i/patroni.yml"
  done
  cp "$WORK/filler.log" "$OUT_DIR/filler.log" 2>/dev/null || true
  cp "$WORK/load.log" "$OUT_DIR/load.log" 2>/dev/null || true
}

first_line() { # pattern files... → the first matching line, with its file
  grep -h -m1 -E "$1" "${@:2}" 2>/dev/null | head -1
}

# No {n} intervals: Debian's awk is mawk.
HEAD_RE='^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:,]+( [+-][0-9][0-9][0-9][0-9])? [A-Z]+: '
case $LOG_FORM in
  json) HEAD_RE='^\{"asctime": ' ;;
  custom) HEAD_RE='^\[[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:,]+\]\[[A-Z]+\] ' ;;
esac
first_nospace_head() { # file: the timestamped head line of the first record that mentions NOSPACE
  awk -v re="$HEAD_RE" '$0 ~ re { head = $0 } /database space exceeded/ { print head; exit }' "$1"
}
last_error_then_ok() { # file
  awk -v re="$HEAD_RE" -v erre="$(echo "$LEVEL_RE" | sed 's/(INFO|ERROR|WARNING)/ERROR/')" -v okre="$NO_ACTION_RE" \
    '$0 ~ re && $0 ~ erre { err = $0; ok = "" } $0 ~ re && $0 ~ okre && err != "" && ok == "" { ok = $0 }
    END { if (err != "") print err " … then: " ok }' "$1"
}
leader_lines() { # file: the first line of each leader-race/promotion message and how often it was logged
  grep -E 'promoted self|acquired session lock|demoted self|demoting self|following new leader after trying|Could not take out TTL lock' "$1" |
    awk '{ m = $0; sub(/^[^A-Z]*[A-Z]+: /, "", m); if (!(m in n)) { order[++k] = m; first[m] = $0 } n[m]++ }
      END { for (i = 1; i <= k; i++) print first[order[i]] " (" n[order[i]] "x)" }'
}
first_watch_after() { # iso time: the first watch line received at or after it (same zone, so text order works)
  awk -v t="${1:0:19}" 'substr($0, 1, 19) >= t { print; exit }' "$OUT_DIR/watch-service.jsonl"
}

write_readme() {
  set +o pipefail # head/grep -m1 close pipes early on purpose
  local pv ev gv pgv
  pv=$(env ${PATRONI_PYTHONPATH:+PYTHONPATH="$PATRONI_PYTHONPATH"} "${PATRONI_CMD[@]}" --version 2>&1)
  ev=$(etcd --version 2>&1 | head -1)
  gv=$(etcd --version 2>&1 | sed -n 's/^Go Version: //p')
  pgv=$("$PG_BIN/postgres" --version)
  local ctl
  ctl=$(ETCDCTL_API=3 etcdctl version 2>&1 | head -1)
  local alarm_zap alarm_capn
  alarm_zap=$(first_line '"msg":"alarm raised"' "$OUT_DIR/etcd/etcd1.log")
  alarm_capn=$(first_line 'alarm NOSPACE raised' "$OUT_DIR"/etcd/etcd*.log)
  [ -n "$alarm_capn" ] || alarm_capn='(no capnslog member logged it)'
  cat >"$OUT_DIR/README.md" <<MD
# Real Patroni + etcd NOSPACE incident (captured by scripts/capture/patroni-incident.sh)

Command: \`${DEBIAN_SUITE:+DEBIAN_SUITE=$DEBIAN_SUITE }$( [ "$LOG_FORM" = default ] || printf 'LOG_FORM=%s ' "$LOG_FORM")ETCD_MEMBERS=$ETCD_MEMBERS PATRONI_NODES=$PATRONI_NODES QUOTA_BYTES=$QUOTA_BYTES LOOP_WAIT=$LOOP_WAIT AFTER_ALARM_SECONDS=$AFTER_ALARM_SECONDS OUT_DIR=<this dir> bash scripts/capture/patroni-incident.sh\`
(further settings: TTL=$TTL RETRY_TIMEOUT=$RETRY_TIMEOUT HEADROOM_BYTES=$HEADROOM_BYTES FILLER_VALUE_BYTES=$FILLER_VALUE_BYTES
FAILOVER_UNDER_NOSPACE=$FAILOVER_UNDER_NOSPACE DATEFORMAT_NODE=$DATEFORMAT_NODE PIGSTY_TZ=$PIGSTY_TZ SAMPLE_SECONDS=$SAMPLE_SECONDS$( [ "$FILLER_FINE_BYTES" != 0 ] && printf ' FILLER_BATCH=%s FILLER_FINE_BYTES=%s FILLER_FINE_BATCH=%s' "$FILLER_BATCH" "$FILLER_FINE_BYTES" "$FILLER_FINE_BATCH")).
Host time zone: $(cat /etc/timezone 2>/dev/null || echo unknown) ($(date +%z)); everything ran on 127.0.0.1.

## Versions
- $pv (Debian package ${PATRONI_DEB:-$(dpkg-query -W -f '${Version}' patroni 2>/dev/null)}, Python $(/usr/bin/python3 --version 2>&1 | cut -d' ' -f2))
- $ev ($ctl, Go $gv)
- $pgv

## What was run
1. $ETCD_MEMBERS etcd member(s) \`etcd1..\` with \`--quota-backend-bytes $QUOTA_BYTES\` and no auto-compaction.
   etcd1 logs with \`--logger=zap --log-outputs=stderr\` (JSON); the others with $(case $ev in *3.4.*) echo "3.4's default capnslog text" ;; *) echo "their default logger (zap JSON on stderr; 3.5 has no capnslog)" ;; esac).
2. $PATRONI_NODES Patroni node(s) \`pg1..\` (scope \`$SCOPE\`, namespace \`$NAMESPACE\`, loop_wait $LOOP_WAIT, ttl $TTL,
   retry_timeout $RETRY_TIMEOUT), run as \`postgres\`, each logging to \`log.dir\` → \`patroni.log\` in Patroni's default
   format (\`2026-11-23 22:40:05,295 INFO: …\`, host local time, no zone).$(case $LOG_FORM in json) printf '\n   LOG_FORM=json: every node has `log: {type: json}` (python-json-logger; default fields asctime, levelname, message).' ;; custom) printf '\n   LOG_FORM=custom: every node has `log: {format: %s}`.' "'$CUSTOM_LOG_FORMAT'" ;; esac)$( [ "$DATEFORMAT_NODE" != 0 ] && printf '\n   pg%s uses pigsty'"'"'s `dateformat: '"'"'%%Y-%%m-%%d %%H:%%M:%%S %%z'"'"'` and runs with `TZ=%s`, so its lines read `… +0800 INFO: …`.' "$DATEFORMAT_NODE" "$PIGSTY_TZ")
   \`stderr.log\` is the Patroni process's stdout/stderr: PostgreSQL's own stderr log lines (\`… UTC [pid] LOG: …\`).
3. A load: \`INSERT\` of a 200-byte row every second on the first primary, so the WAL position moves.
4. A filler wrote ${FILLER_VALUE_BYTES}-byte values to \`/filler/*\` (outside \`$NAMESPACE\`) until the backend was
   $HEADROOM_BYTES bytes below the quota, then stopped ($(cat "$OUT_DIR/filler.log" 2>/dev/null | tail -1)).
   The remaining growth, the write that hit the quota, and the rejected writes after it are Patroni's.
5. Every $SAMPLE_SECONDS s (\`samples/\`), each sample after a \`date -Is\` line: \`endpoint status --cluster -w json\`
   and \`-w table\`, \`endpoint health --cluster -w json\` and \`-w table\`, \`alarm list\`.
6. Truth: \`watch-service.jsonl\` = \`etcdctl watch --prefix $NAMESPACE -w json\`, each line prefixed with the local
   receive time (ms).
7. After the alarm: $AFTER_ALARM_SECONDS s of NOSPACE.$( [ -n "$T_LEADER_STOP" ] && printf ' Then the leader'"'"'s Patroni (pg%s) was stopped with SIGTERM at %s (it stops its PostgreSQL), left down %s s, and restarted at %s under NOSPACE for %s s.' "$stopped" "$T_LEADER_STOP" "$LEADERLESS_SECONDS" "$T_LEADER_RESTART" "$RESTART_SECONDS")
8. \`snapshot save\` + \`snapshot status -w json/-w table\` (\`snapshot-*.txt\`; \`snapshot.bin.gz\` only when small).
9. Recovery runbook (\`recovery/\`, one file per command after a \`date -Is\` line, plus \`transcript.txt\`):
   \`endpoint status -w json\` → revision → \`compact <rev>\` → \`defrag\` per member, one at a time → \`alarm disarm\`.
10. Patroni left to recover until a clean \`no action.\` loop on every node, then everything stopped by PID.

## Timeline (local times: $(date +%Z); pg$DATEFORMAT_NODE's own lines print the same instants in $PIGSTY_TZ)
- start: $T_START; cluster up (leader $LEADER, all members running): $T_CLUSTER
- NOSPACE alarm, etcd1 (zap): \`$(echo "$alarm_zap" | cut -c1-200)\`
- NOSPACE alarm, capnslog members: \`$(echo "$alarm_capn" | cut -c1-200)\`
- alarm first seen by \`alarm list\`: $T_ALARM
- first Patroni record mentioning \`database space exceeded\`, per node (its head line):
$(for f in "$OUT_DIR"/patroni/pg*/patroni.log; do first_nospace_head "$f" | sed "s|^|  - \`${f#$OUT_DIR/}: |; s/\$/\`/"; done)$( [ -n "$T_LEADER_STOP" ] && printf '\n- leader pg%s stopped: %s; restarted: %s' "$stopped" "$T_LEADER_STOP" "$T_LEADER_RESTART")
- recovery runbook started: $T_RECOVERY_START; \`alarm disarm\` at: $T_DISARM
- first /service write seen by the watch after the disarm: \`$(first_watch_after "$T_DISARM" | cut -c1-160)\`
- leader race and promotion lines (first of each message per node, with its count):
$(for f in "$OUT_DIR"/patroni/pg*/patroni.log; do leader_lines "$f" | sed "s|^|  - \`${f#$OUT_DIR/}: |; s/\$/\`/"; done)
- per node, the last ERROR head line and the first \`no action.\` after it:
$(for f in "$OUT_DIR"/patroni/pg*/patroni.log; do last_error_then_ok "$f" | sed "s|^|  - \`${f#$OUT_DIR/}: |; s/\$/\`/"; done)
- every running node logging a clean \`no action.\` loop: ${T_CLEAN:-not reached}
- end: $T_END

## Files
$(cd "$OUT_DIR" && find . -type f ! -name README.md | sort | while read -r f; do printf -- '- `%s` (%s bytes)\n' "${f#./}" "$(stat -c %s "$f")"; done)
MD
}

main "$@"
