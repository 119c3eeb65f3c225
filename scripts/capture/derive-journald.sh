#!/usr/bin/env bash
# Derive journald-wrapped (`journalctl` short format) variants of the real etcd 3.4 logs captured by
# scripts/capture/etcd-fixtures.sh, into test/fixtures/etcd-3.4-journald/.
#
# Transformation (see shared reference etcd.md §3.1 and §4):
#   - every kept line gets the prefix `Mon DD HH:MM:SS <host> etcd[<pid>]: `; host = member name (etcd1, etcd2),
#     pid = the member's real pid from capture-meta.env, time = the line's own timestamp (local wall clock of the
#     capture zone; journald would use its receive time, which is the same second here).
#   - zap (etcd1): the JSON line is kept verbatim after the prefix (zap writes JSON to stderr/journal unchanged).
#   - capnslog (etcd2): under systemd capnslog uses its journald formatter, which sends only the message, so the
#     `YYYY-MM-DD HH:MM:SS.ffffff L | pkg: ` prefix is stripped and its time moves into the syslog prefix.
#     raft lines (`raftYYYY/MM/DD HH:MM:SS LEVEL: …`) and other Go `log` lines go to stderr, which journald stores as
#     is, so they keep their own prefix. Lines without any timestamp take the previous line's time.
# Only excerpts are kept: the first 25 lines (start-up), ±3 s around the moment the alarm was seen, and the recovery
# window (1 s before the compaction request to 2 s after recovery), so each file stays a few hundred lines.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
SRC=${SRC_DIR:-$REPO/test/fixtures/etcd-3.4}
DST=${DST_DIR:-$REPO/test/fixtures/etcd-3.4-journald}
META=$SRC/capture-meta.env
[[ -f $META ]] || { echo "missing $META (run scripts/capture/etcd-fixtures.sh first)" >&2; exit 1; }

meta() { sed -n "s/^$1=//p" "$META" | head -1; }
export TZ=$(meta TZ)
# "YYYY-MM-DD HH:MM:SS" local wall clock of an ISO time shifted by N seconds
wall() { date -d "@$(( $(date -d "$1" +%s) + $2 ))" '+%Y-%m-%d %H:%M:%S'; }
A_FROM=$(wall "$(meta ALARM_SEEN)" -3)
A_TO=$(wall "$(meta ALARM_SEEN)" 3)
R_FROM=$(wall "$(meta RECOVERY_START)" -1)
R_TO=$(wall "$(meta RECOVERED)" 2)

mkdir -p "$DST"

# derive MODE HOST PID INPUT OUTPUT
derive() {
  awk -v mode="$1" -v host="$2" -v pid="$3" -v afrom="$A_FROM" -v ato="$A_TO" -v rfrom="$R_FROM" -v rto="$R_TO" '
    BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mon, " "); t = "" }
    {
      line = $0; msg = line; nt = ""
      if (mode == "zap" && match(line, /"ts":"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/)) {
        s = substr(line, RSTART + 6, 19); nt = substr(s, 1, 10) " " substr(s, 12, 8)
      } else if (mode == "capnslog" && match(line, /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]+ [CEWNIDT] \| /)) {
        nt = substr(line, 1, 19)
        rest = substr(line, RLENGTH + 1)
        # drop the "pkg: " of the capnslog prefix (package names contain no spaces)
        if (match(rest, /^[A-Za-z0-9_\/.-]+: /)) rest = substr(rest, RLENGTH + 1)
        msg = rest
      } else if (match(line, /^(raft ?|WARNING: |INFO: |ERROR: )?[0-9][0-9][0-9][0-9]\/[0-9][0-9]\/[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]/)) {
        s = substr(line, RSTART, RLENGTH); s = substr(s, length(s) - 18)
        gsub(/\//, "-", s); nt = s
      }
      if (nt != "") t = nt
      if (t == "") next
      keep = (NR <= 25) || (t >= afrom && t <= ato) || (t >= rfrom && t <= rto)
      if (!keep) next
      printf "%s %s %s %s etcd[%s]: %s\n", mon[substr(t, 6, 2) + 0], substr(t, 9, 2), substr(t, 12, 8), host, pid, msg
    }' "$4" >"$5"
}

derive zap "$(meta ETCD1_NAME)" "$(meta ETCD1_PID)" "$SRC/etcd-zap.log" "$DST/etcd-zap.journald.log"
derive capnslog "$(meta ETCD2_NAME)" "$(meta ETCD2_PID)" "$SRC/etcd-capnslog.log" "$DST/etcd-capnslog.journald.log"

cat >"$DST/README.md" <<EOF
# etcd 3.4 logs in journald (\`journalctl\` short) form: DERIVED, not captured

These files are **derived** from the real logs in \`../etcd-3.4/\` (\`etcd-zap.log\` of member etcd1,
\`etcd-capnslog.log\` of member etcd2) by \`bash scripts/capture/derive-journald.sh\`. No etcd ran under systemd to
produce them; they apply the documented journald transformation to real etcd output.

| file | from | transformation |
|---|---|---|
| etcd-zap.journald.log | ../etcd-3.4/etcd-zap.log | \`Mon DD HH:MM:SS etcd1 etcd[$(meta ETCD1_PID)]: \` + the zap JSON line unchanged; time = the line's own \`ts\` (local wall clock, zone $TZ) |
| etcd-capnslog.journald.log | ../etcd-3.4/etcd-capnslog.log | \`Mon DD HH:MM:SS etcd2 etcd[$(meta ETCD2_PID)]: \` + the message only: capnslog's journald formatter drops its own \`YYYY-MM-DD HH:MM:SS.ffffff L \| pkg: \` prefix (level and package go to journal fields), so e.g. \`failed to apply request "…" … err is etcdserver: no space\` has no timestamp of its own. raft lines (\`raftYYYY/MM/DD HH:MM:SS INFO: …\`, Go \`log\` on stderr) keep their prefix |

Host = member name, pid = the member's real pid in the capture. There is no year and no zone in the prefix: a parser
must infer the year and assume the zone ($TZ here).

Excerpts only (a few hundred lines each): the first 25 lines (start-up), $A_FROM to $A_TO (alarm raised) and
$R_FROM to $R_TO (compaction, defrag of both members, failed requests while the alarm is still set, alarm disarm),
all local time. Lines without a timestamp of their own take the previous line's time.
EOF
wc -l "$DST"/*.log
