#!/usr/bin/env bash
# Captures a REAL operator session against a one-member etcd (the Debian etcd 3.4.23 packages on this
# machine) that runs out of space, and writes it as the two kinds of paste people post:
#   session-root-prompt.txt  `[root@etcd-0 ~]# <command>` then the command's real stdout+stderr, timed only by
#                            the `date -u` commands the session runs;
#   session-timed-prompt.txt `<ISO time with offset>  $ <command>` (the time the script started the command, the
#                            form of test/fixtures/etcd-3.4/commands.txt) then the same real output.
# The prompts are text this script prints (a terminal would); every other line is printed by etcd's tools,
# `date`, `jq` or `python3 -m json.tool`. One command is shown split with a `\` continuation (`> ` on the next
# line), as bash echoes it; it runs as one line.
# Usage: bash scripts/capture/etcdctl-session.sh   (from the repository root; about 20 s; loopback only)
set -euo pipefail
OUT=test/fixtures/transcripts-derived
WORK=$(mktemp -d /tmp/etcdctl-session.XXXXXX)
PORT=23791
PEER=23801
EP=127.0.0.1:$PORT
export ETCDCTL_API=3 LC_ALL=C TZ=UTC
mkdir -p "$OUT"

etcd --name etcd-0 --data-dir "$WORK/data" --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
  --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
  --initial-cluster "etcd-0=http://127.0.0.1:$PEER" --quota-backend-bytes 262144 --logger zap --log-outputs stderr \
  >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
trap 'kill $ETCD_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do etcdctl --endpoints="$EP" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done

# Fill until the quota is hit (bounded: at most 2000 puts).
VALUE=$(head -c 2000 /dev/zero | tr '\0' x)
for i in $(seq 1 2000); do etcdctl --endpoints="$EP" put "/service/pg/members/node$((i % 5))" "$VALUE" >/dev/null 2>&1 || break; done

ROOT="$OUT/session-root-prompt.txt"
TIMED="$OUT/session-timed-prompt.txt"
: >"$ROOT"
: >"$TIMED"
# run SHOWN [EXECUTED]: SHOWN is what the paste shows after the prompt (may hold a `\`+newline continuation).
run() {
  local shown=$1 cmd=${2:-$1} now first rest
  now=$(date +%Y-%m-%dT%H:%M:%S.%3N%:z)
  first=${shown%%$'\n'*}
  printf '[root@etcd-0 ~]# %s\n' "$first" >>"$ROOT"
  printf '%s  $ %s\n' "$now" "$first" >>"$TIMED"
  if [[ $shown == *$'\n'* ]]; then
    rest=${shown#*$'\n'}
    printf '> %s\n' "$rest" | tee -a "$ROOT" >>"$TIMED"
  fi
  bash -c "$cmd" >"$WORK/out" 2>&1 || true
  cat "$WORK/out" >>"$ROOT"
  cat "$WORK/out" >>"$TIMED"
}

E="--endpoints=$EP"
run "date -u"
run "etcdctl $E put /service/pg/members/node1 '{\"role\":\"master\"}'"
run "etcdctl $E alarm list"
run "etcdctl $E endpoint status -w table"
run "etcdctl $E endpoint status -w json | jq ."
REV=$(etcdctl "$E" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
run "etcdctl $E endpoint status -w json | python3 -m json.tool"
run "date -u"
run "ETCDCTL_API=3 etcdctl $E compact $REV"
run "etcdctl $E \\"$'\n'"defrag" "etcdctl $E defrag"
run "etcdctl $E alarm disarm"
run "etcdctl $E alarm list"
run "date -u"
run "etcdctl $E put /service/pg/members/node1 '{\"role\":\"master\"}'"
run "etcdctl $E endpoint status -w table"
run "etcdctl --endpoints=127.0.0.1:1 --command-timeout=2s endpoint status"
echo "wrote $ROOT and $TIMED (compacted at revision $REV)"
