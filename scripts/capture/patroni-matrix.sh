#!/usr/bin/env bash
# One cell of the Patroni capture matrix: a real Patroni + etcd NOSPACE incident (scripts/capture/patroni-incident.sh)
# with the Patroni and etcd of a Debian suite, in one log form, copied into test/fixtures/patroni-<version>/<form>/.
#
#   bash scripts/capture/patroni-matrix.sh trixie default   # Patroni 4.0.7 + etcd 3.5.16, full incident
#   bash scripts/capture/patroni-matrix.sh trixie json      # log.type: json, shorter run (no leader stop)
#   bash scripts/capture/patroni-matrix.sh sid custom       # Patroni 4.1.5 + etcd 3.5.30, log.format '[%(asctime)s][%(levelname)s] %(message)s'
#
# default: the same incident as the 3.0.2 capture (3 etcd, 3 Patroni, leader stopped and restarted under NOSPACE,
# recovery runbook). json / custom: 3 etcd, 3 Patroni, 20 s of NOSPACE, no leader stop, then the same recovery.
# Copied whole (nothing trimmed, nothing gzipped): each node's patroni.log and patroni.yml (passwords redacted),
# etcd1's log (zap), etcd's endpoint status samples (json), the recovery transcript and the incident's own README
# (as INCIDENT.md). The full output stays in $KEEP_DIR (default /tmp/patroni-matrix-<suite>-<form>).
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
SUITE=${1:?suite (trixie, sid)}
FORM=${2:?form (default, json, custom)}
KEEP_DIR=${KEEP_DIR:-/tmp/patroni-matrix-$SUITE-$FORM}

ver=$(bash "$REPO/scripts/fetch-debian-packages.sh" "$SUITE" patroni 2>/dev/null | awk '{ print $2 }')
ver=${ver%%-*} # 4.0.7-3~deb13u1 -> 4.0.7
[ -n "$ver" ] || { echo "no patroni in $SUITE" >&2; exit 1; }
DEST=${DEST:-$REPO/test/fixtures/patroni-$ver/$FORM}

settings=(DEBIAN_SUITE="$SUITE" LOG_FORM="$FORM" ETCD_MEMBERS=3 PATRONI_NODES=3 LOOP_WAIT=1 QUOTA_BYTES=$((6 * 1024 * 1024)))
if [ "$FORM" != default ]; then
  settings+=(FAILOVER_UNDER_NOSPACE=0 AFTER_ALARM_SECONDS=20)
fi
echo "running: ${settings[*]} OUT_DIR=$KEEP_DIR bash scripts/capture/patroni-incident.sh" >&2
env "${settings[@]}" OUT_DIR="$KEEP_DIR" bash "$SCRIPT_DIR/patroni-incident.sh"

rm -rf "$DEST"
mkdir -p "$DEST"
for d in "$KEEP_DIR"/patroni/pg*; do
  n=$(basename "$d")
  mkdir -p "$DEST/$n"
  cp "$d/patroni.log" "$d/patroni.yml" "$DEST/$n/"
done
cp "$KEEP_DIR/etcd/etcd1.log" "$DEST/etcd1.log"
cp "$KEEP_DIR/samples/endpoint-status.json.txt" "$DEST/endpoint-status-samples.json.txt"
cp "$KEEP_DIR/recovery/transcript.txt" "$DEST/recovery-transcript.txt"
cp "$KEEP_DIR/README.md" "$DEST/INCIDENT.md"
cat >"$DEST/README.md" <<EOF
# Patroni $ver ($FORM log form) in a real etcd NOSPACE incident

Captured by \`bash scripts/capture/patroni-matrix.sh $SUITE $FORM\`, which ran
\`${settings[*]} OUT_DIR=$KEEP_DIR bash scripts/capture/patroni-incident.sh\`
(Patroni and etcd from Debian $SUITE via scripts/fetch-debian-packages.sh, PostgreSQL 15 and Python from the machine)
and copied these whole files out of its output. INCIDENT.md is that run's own generated README: versions, settings,
timeline, first NOSPACE record per node. Nothing here is hand-written except this README.

| file | what |
|---|---|
| pg1..pg3/patroni.log | Patroni's own log (\`log.dir\`) in the $FORM form |
| pg1..pg3/patroni.yml | the node's configuration (passwords redacted) |
| etcd1.log | etcd member 1's log (\`--logger=zap --log-outputs=stderr\`, zap JSON) |
| endpoint-status-samples.json.txt | every 3 s a \`date -Is\` line, then \`etcdctl endpoint status --cluster -w json\` |
| recovery-transcript.txt | the recovery runbook: every command with its time and output |
| INCIDENT.md | the incident script's README for this run |
EOF
du -sh "$DEST"
