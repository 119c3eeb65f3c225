#!/usr/bin/env bash
# Capture REAL etcd member data directories (issue 16: WAL and raft snapshots) under Patroni-shaped load.
#
#   bash scripts/capture/data-dirs.sh 3.4      # /usr/bin/etcd 3.4.23, stopped with SIGTERM after the writer stops
#   bash scripts/capture/data-dirs.sh 3.5      # etcd 3.5.16 (scripts/fetch-debian-packages.sh trixie), SIGKILLed mid-write
#   bash scripts/capture/data-dirs.sh bench OUT_DIR   # 3.4.23 filled until its first 64 MB WAL segment is full
#                                                     # (bench/wal-bench.ts); OUT_DIR/0000000000000000-0000000000000000.wal
#   bash scripts/capture/data-dirs.sh purged  # 3.4.23 with --max-wals 1: filled past its first segment, then 1,500
#       small puts under /after/ (watched from the revision after the fill), until etcd purges the first segment:
#       a WAL window that does not start at index 1 (test/fixtures/data-dir-3.4.23-purged/)
#
# One member on 127.0.0.1 (kernel-picked ports, temp data dir), --snapshot-count 500 (so member/snap/*.snap exist),
# --auto-compaction-mode periodic --auto-compaction-retention 1m (the auto-compactor's requests), and:
#   - `etcdctl watch --rev=1 --prefix / -w json` from the start: the truth (watch.jsonl.gz);
#   - scripts/capture/patroni-shaped-writer.mjs (CYCLE_MS=250: 4 puts a cycle, 3 leases, 2 create-if-absent txns);
#   - etcdctl extras logged to ops.log: a lease with a key attached then revoked, a put + delete, a storm of 10
#     lease grant/revoke pairs, a manual `etcdctl compact`, two `etcdctl snapshot save` 2 minutes apart.
# Output: test/fixtures/data-dir-<version>/ (README.md says what each file is and how it was trimmed).
set -euo pipefail

MODE=${1:?usage: data-dirs.sh 3.4|3.5|bench OUT_DIR}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
export TZ=${CAPTURE_TZ:-UTC}
export ETCDCTL_API=3
case $MODE in
  3.4 | bench | purged) BIN=/usr/bin ; CTLBIN=/usr/bin ;;
  3.5)
    while read -r pkg _ver dir; do
      case $pkg in etcd-server) BIN=$dir/usr/bin ;; etcd-client) CTLBIN=$dir/usr/bin ;; esac
    done < <(bash "$REPO/scripts/fetch-debian-packages.sh" trixie etcd-server etcd-client) ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
ETCD=$BIN/etcd
ETCDCTL=$CTLBIN/etcdctl
ETCD_VER=$("$ETCD" --version | awk 'NR == 1 { print $3 }')
case $MODE in
  bench) OUT=${2:?bench needs OUT_DIR} ;;
  purged) OUT=${OUT:-$REPO/test/fixtures/data-dir-$ETCD_VER-purged} ;;
  *) OUT=${OUT:-$REPO/test/fixtures/data-dir-$ETCD_VER} ;;
esac

WORK=$(mktemp -d /tmp/data-dirs.XXXXXX)
PIDS=()
cleanup() {
  local rc=$? i
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
ts() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
ctl() { "$ETCDCTL" --dial-timeout=3s --command-timeout=20s --endpoints="$EP" "$@"; }
op() { local out; out=$(ctl "$@" 2>&1) || true; printf '%s etcdctl %s -> %s\n' "$(ts)" "$*" "${out//$'\n'/ | }" >>"$WORK/ops.log"; printf '%s' "$out"; }

FLAGS=(--name etcd1 --data-dir "$WORK/etcd1" --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP"
  --listen-peer-urls "http://127.0.0.1:$P1" --initial-advertise-peer-urls "http://127.0.0.1:$P1"
  --initial-cluster "etcd1=http://127.0.0.1:$P1" --initial-cluster-state new --initial-cluster-token data-dirs
  --logger zap --log-outputs stderr)
if [[ $MODE == purged ]]; then FLAGS+=(--snapshot-count 1000 --max-wals 1)
else FLAGS+=(--snapshot-count 500 --auto-compaction-mode periodic --auto-compaction-retention 1m); fi
START_TS=$(ts)
"$ETCD" "${FLAGS[@]}" 2>"$WORK/etcd.log" &
ETCD_PID=$!; PIDS+=("$ETCD_PID")
for i in $(seq 1 60); do
  ctl endpoint health >/dev/null 2>&1 && break
  [[ $i -eq 60 ]] && { echo "etcd did not become healthy" >&2; exit 1; }
  sleep 0.5
done

if [[ $MODE == bench || $MODE == purged ]]; then
  # Fill the first segment: 4 writers, values of 1-4 KB, until etcd cuts a second segment (the first is then 64 MB).
  node --input-type=module -e '
    const ep = process.argv[1]; const b64 = (s) => Buffer.from(s).toString("base64");
    const fs = await import("node:fs"); const dir = process.argv[2];
    let n = 0, done = false;
    async function worker(w) {
      while (!done) {
        const v = "x".repeat(1024 + ((n * 7919) % 3072));
        const r = await fetch(`http://${ep}/v3/kv/put`, { method: "POST", body: JSON.stringify({ key: b64(`/bench/w${w}/k${n++ % 5000}`), value: b64(v) }) });
        await r.text();
        if (n % 500 === 0 && fs.readdirSync(dir).filter((f) => f.endsWith(".wal")).length > 1) done = true;
      }
    }
    await Promise.all([0, 1, 2, 3].map(worker));
    console.log(`puts ${n}`);
  ' "$EP" "$WORK/etcd1/member/wal"
fi
if [[ $MODE == bench ]]; then
  kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
  mkdir -p "$OUT"
  cp "$WORK/etcd1/member/wal/0000000000000000-0000000000000000.wal" "$OUT/"
  echo "etcd $ETCD_VER filled $OUT/0000000000000000-0000000000000000.wal ($(stat -c %s "$OUT/0000000000000000-0000000000000000.wal") bytes)"
  exit 0
fi
if [[ $MODE == purged ]]; then
  REV=$(ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
  "$ETCDCTL" --endpoints="$EP" watch --rev=$((REV + 1)) --prefix / -w json >"$WORK/watch.jsonl" 2>"$WORK/watch.err" &
  WATCH_PID=$!; PIDS+=("$WATCH_PID")
  sleep 1
  # 1,500 small puts, one at a time, 5 keys, two of them with a lease: past the next raft snapshot (1,000 entries),
  # after which etcd's purge loop (every 30 s) removes the first segment (--max-wals 1).
  node --input-type=module -e '
    const ep = process.argv[1]; const b64 = (s) => Buffer.from(s).toString("base64");
    const post = async (p, body) => (await fetch(`http://${ep}${p}`, { method: "POST", body: JSON.stringify(body) })).json();
    const lease = (await post("/v3/lease/grant", { TTL: "600" })).ID;
    for (let i = 0; i < 1500; i++) {
      const k = i % 5;
      await post("/v3/kv/put", { key: b64(`/after/k${k}`), value: b64(`{"i":${i}}`), ...(k < 2 ? { lease } : {}) });
    }
    console.log(`lease ${lease}`);
  ' "$EP" >"$WORK/after.log"
  for i in $(seq 1 120); do
    [[ $(ls "$WORK/etcd1/member/wal/" | grep -c '\.wal$') -eq 1 ]] && break
    [[ $i -eq 120 ]] && { echo "etcd did not purge the first segment within 60 s" >&2; exit 1; }
    sleep 0.5
  done
  sleep 1
  kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
  sleep 0.5
  kill "$WATCH_PID" 2>/dev/null || true; wait "$WATCH_PID" 2>/dev/null || true
  rm -rf "$OUT"; mkdir -p "$OUT/member/wal" "$OUT/member/snap"
  cp "$WORK/etcd1/member/snap/"*.snap "$OUT/member/snap/"
  for f in "$WORK/etcd1/member/wal/"*.wal; do gzip -9 -c "$f" >"$OUT/member/wal/$(basename "$f").gz"; done
  gzip -9 -c "$WORK/watch.jsonl" >"$OUT/watch.jsonl.gz"
  cp "$WORK/etcd.log" "$WORK/after.log" "$OUT/"
  {
    echo "# etcd $ETCD_VER member whose first WAL segment was purged (issue 16)"
    echo
    echo "Written by real programs during one run of \`bash scripts/capture/data-dirs.sh purged\` on $(uname -sr);"
    echo "nothing is hand-written except this README, which the script writes."
    echo
    echo "- etcd: \`$ETCD\` ($ETCD_VER), one member, started $START_TS: \`etcd ${FLAGS[*]}\` → \`etcd.log\`."
    echo "- Filled with 4 concurrent writers (values of 1-4 KB under /bench/) until etcd cut a second WAL segment (revision $REV),"
    echo "  then 1,500 sequential puts of /after/k0..k4 (k0 and k1 with the lease in \`after.log\`), then waited for etcd to"
    echo "  purge the first segment (--max-wals 1), then SIGTERM."
    echo "- \`member/wal/\`: the one segment left, gzipped whole (64 MB preallocated); \`member/snap/*.snap\` as written. The"
    echo "  backend (member/snap/db, tens of MB of /bench/ values) is not kept."
    echo "- \`watch.jsonl.gz\`: \`etcdctl watch --rev=$((REV + 1)) --prefix / -w json\` from before the /after/ puts: the truth."
  } >"$OUT/README.md"
  echo "captured into $OUT ($(du -sh "$OUT" | cut -f1))"
  exit 0
fi

"$ETCDCTL" --endpoints="$EP" watch --rev=1 --prefix / -w json >"$WORK/watch.jsonl" 2>"$WORK/watch.err" &
WATCH_PID=$!; PIDS+=("$WATCH_PID")
WRITER_TS=$(ts)
env CYCLE_MS=250 node "$SCRIPT_DIR/patroni-shaped-writer.mjs" "$WORK/writer.log" "$EP" &
WRITER_PID=$!; PIDS+=("$WRITER_PID")
T0=$SECONDS
at() { while ((SECONDS - T0 < $1)); do sleep 0.2; done; }

at 5
LEASE=$(op lease grant 60 | awk '{ print $2 }')
op put --lease="$LEASE" /extra/lock held-by-script >/dev/null
op put /extra/plain x >/dev/null
op del /extra/plain >/dev/null
for _ in $(seq 1 10); do
  id=$(op lease grant 5 | awk '{ print $2 }')
  op lease revoke "$id" >/dev/null
done
op lease revoke "$LEASE" >/dev/null

snapshot() { # name
  local before after
  before=$(ts)
  op snapshot save "$WORK/$1.db" >/dev/null
  after=$(ts)
  echo "$1 saved between $before and $after" >>"$WORK/snapshots.log"
  ctl --write-out=json snapshot status "$WORK/$1.db" >>"$WORK/snapshots.log" 2>&1 || true
  echo >>"$WORK/snapshots.log"
}
at 15; snapshot snap-1
at 75
REV=$(ctl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
op compact "$REV" >/dev/null
at 135; snapshot snap-2
at 140

if [[ $MODE == 3.5 ]]; then
  STOP="SIGKILL while the writer was writing"
  echo "$(ts) kill -9 etcd (writer still running)" >>"$WORK/ops.log"
  kill -9 "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
  sleep 1
  kill "$WRITER_PID"; wait "$WRITER_PID" 2>/dev/null || true
else
  STOP="SIGTERM 2 s after the writer stopped"
  kill "$WRITER_PID"; wait "$WRITER_PID" 2>/dev/null || true
  sleep 2
  echo "$(ts) kill -TERM etcd" >>"$WORK/ops.log"
  kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
fi
STOP_TS=$(ts)
sleep 0.5
kill "$WATCH_PID" 2>/dev/null || true; wait "$WATCH_PID" 2>/dev/null || true

rm -rf "$OUT"; mkdir -p "$OUT/member/wal" "$OUT/member/snap"
cp "$WORK/etcd1/member/snap/"*.snap "$OUT/member/snap/"
gzip -9 -c "$WORK/etcd1/member/snap/db" >"$OUT/member/snap/db.gz"
# WAL segments: 3.4's are cut right after the last record (a frame walk: 8-byte length word, lower 56 bits the
# length, top byte 0x80|pad; a zero word is the preallocated tail); the SIGKILLed 3.5 member's are kept whole, gzipped.
for f in "$WORK/etcd1/member/wal/"*.wal; do
  base=$(basename "$f")
  if [[ $MODE == 3.5 ]]; then
    gzip -9 -c "$f" >"$OUT/member/wal/$base.gz"
  else
    end=$(python3 - "$f" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
p = 0
while p + 8 <= len(b):
    (w,) = struct.unpack_from('<Q', b, p)
    if w == 0:
        break
    n = w & ((1 << 56) - 1)
    pad = (w >> 56) & 7 if w >> 63 else 0
    p += 8 + n + pad
print(p)
PY
)
    head -c "$end" "$f" >"$OUT/member/wal/$base"
    echo "$base: $(stat -c %s "$f") bytes on disk, cut at $end" >>"$WORK/trim.log"
  fi
done
gzip -9 -c "$WORK/watch.jsonl" >"$OUT/watch.jsonl.gz"
gzip -9 -c "$WORK/snap-1.db" >"$OUT/snap-1.db.gz"
gzip -9 -c "$WORK/snap-2.db" >"$OUT/snap-2.db.gz"
cp "$WORK/etcd.log" "$WORK/ops.log" "$WORK/snapshots.log" "$OUT/"
{ grep -E ' (start|lease-grant|txn-create) ' "$WORK/writer.log" || true; grep ' summary ' "$WORK/writer.log" || true; } >"$OUT/writer-summary.log"
{
  echo "# etcd $ETCD_VER member data directory (issue 16)"
  echo
  echo "Written by real programs during one run of \`bash scripts/capture/data-dirs.sh $MODE\` on $(uname -sr);"
  echo "nothing is hand-written except this README, which the script writes."
  echo
  echo "- etcd: \`$ETCD\` ($ETCD_VER), one member, started $START_TS: \`etcd ${FLAGS[*]}\`"
  echo "  (temp dir and ports vary) → \`etcd.log\` (zap JSON). Stopped at $STOP_TS: $STOP."
  echo "- \`member/\`: the member's data dir after the stop. \`member/snap/*.snap\` as written; \`member/snap/db.gz\` is the"
  echo "  bbolt backend, gzipped. WAL: $( [[ $MODE == 3.5 ]] && echo 'each segment gzipped whole (64 MB preallocated, zero tail)' || echo 'each segment cut right after its last record (trim.log: the frame walk in this script); the rest was the preallocated zero tail')."
  echo "- writer: \`CYCLE_MS=250 node scripts/capture/patroni-shaped-writer.mjs\` from $WRITER_TS; \`writer-summary.log\`"
  echo "  keeps its start, lease-grant and txn-create lines and the summary (per-key counts)."
  echo "- \`watch.jsonl.gz\`: \`etcdctl watch --rev=1 --prefix / -w json\` from before the writer started until the stop: the truth."
  echo "- \`ops.log\`: every etcdctl command the script ran and what it printed (a lease with /extra/lock, revoked; a put and"
  echo "  delete of /extra/plain; 10 lease grant/revoke pairs; \`etcdctl compact\` at t+75 s; the two snapshots)."
  echo "- \`snap-1.db.gz\`, \`snap-2.db.gz\`: \`etcdctl snapshot save\` at t+15 s and t+135 s (gzipped); \`snapshots.log\`: the"
  echo "  UTC time before/after each save and \`etcdctl snapshot status -w json\`."
  [[ -e $WORK/trim.log ]] && { echo; echo '```'; cat "$WORK/trim.log"; echo '```'; }
} >"$OUT/README.md"
echo "captured into $OUT ($(du -sh "$OUT" | cut -f1))"
