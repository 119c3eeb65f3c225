#!/usr/bin/env bash
# Fetch Debian packages of another suite (trixie, sid, ...) WITHOUT touching the system's apt state, and unpack them.
#
#   bash scripts/fetch-debian-packages.sh <suite> <package...>
#   bash scripts/fetch-debian-packages.sh trixie etcd-server etcd-client patroni python3-pythonjsonlogger
#
# How: a private apt configuration (its own sources list, state, cache and lists dirs, no locking) whose single
# source is the machine's own Debian archive URI (from /etc/apt/sources.list.d/*.sources `URIs:` or
# /etc/apt/sources.list) with the suite swapped, checked with the machine's own keyring (`Signed-By:`). Its own
# `apt-get update` on that configuration, then `apt-get download` (no dependency resolution, nothing installed),
# then `dpkg-deb -x` of each .deb into
#   $CACHE_ROOT/<suite>/<package>-<version>/      (CACHE_ROOT default ~/.cache/etcd-forensics/debian)
# An unpacked dir that already exists is reused (nothing is downloaded for it). Prints one line per package:
#   <package> <version> <unpacked dir>
# Env: CACHE_ROOT, APT_URI (override the archive URI), APT_KEYRING (override the keyring), COMPONENTS (default main),
# REFRESH=1 (re-run apt-get update even if the private lists are younger than a day).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 <suite> <package...>" >&2; exit 2; }
SUITE=$1; shift
CACHE_ROOT=${CACHE_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-forensics/debian}
COMPONENTS=${COMPONENTS:-main}
ARCH=$(dpkg --print-architecture)

# ---- the machine's own archive URI and keyring ------------------------------------------------------------
# First deb822 stanza (or one-line entry) that serves plain Debian (not -security, not -updates-only).
read_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # stanzas are separated by blank lines; print "URI KEYRING" of the first stanza whose URI does not end in -security
    awk 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; key = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uri = $i; sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
          if ($i ~ /^Signed-By:/) { key = $i; sub(/^Signed-By:[ \t]*/, "", key) }
        }
        if (uri != "" && uri !~ /-security\/?$/ && uri ~ /debian/) { print uri, key; exit } }' "$f"
  done
  if [ -f /etc/apt/sources.list ]; then
    # deb [signed-by=/path] http://deb.debian.org/debian bookworm main
    awk '$1 == "deb" {
        key = ""; i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { if ($i ~ /signed-by=/) { key = $i }; i++ }
                          if ($i ~ /signed-by=/) key = $i; i++ }
        sub(/.*signed-by=/, "", key); sub(/\].*/, "", key)
        if ($i !~ /-security\/?$/ && $i ~ /debian/) { print $i, key; exit } }' /etc/apt/sources.list
  fi
}
read -r SYS_URI SYS_KEY < <(read_sources | head -1) || true
URI=${APT_URI:-${SYS_URI:-}}
KEYRING=${APT_KEYRING:-${SYS_KEY:-}}
[ -n "$URI" ] || { echo "no Debian archive URI found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set APT_URI" >&2; exit 1; }
[ -n "$KEYRING" ] || KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || { echo "keyring $KEYRING not found; set APT_KEYRING" >&2; exit 1; }

# ---- private apt configuration ----------------------------------------------------------------------------
APT_DIR=$CACHE_ROOT/.apt/$SUITE
mkdir -p "$APT_DIR"/{state/lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d,debs} "$CACHE_ROOT/$SUITE"
cat >"$APT_DIR/etc/sources.list" <<EOF
deb [signed-by=$KEYRING] $URI $SUITE $COMPONENTS
EOF
: >"$APT_DIR/state/status" # an empty dpkg status: apt must not read (or write) the system's
APT_OPTS=(
  -o "Dir::Etc::sourcelist=$APT_DIR/etc/sources.list" -o "Dir::Etc::sourceparts=$APT_DIR/etc/sources.list.d"
  -o "Dir::Etc::preferences=$APT_DIR/etc/preferences" -o "Dir::Etc::preferencesparts=$APT_DIR/etc/preferences.d"
  -o "Dir::State=$APT_DIR/state" -o "Dir::State::Lists=$APT_DIR/state/lists" -o "Dir::State::status=$APT_DIR/state/status"
  -o "Dir::Cache=$APT_DIR/cache" -o "Dir::Cache::archives=$APT_DIR/cache/archives"
  -o "Debug::NoLocking=1" -o "APT::Architecture=$ARCH" -o "APT::Sandbox::User=root" -o "Acquire::Languages=none"
)

# Reuse an unpacked dir when a package's candidate version is already there; only then is no network needed.
lists_fresh() { [ -z "${REFRESH:-}" ] && [ -n "$(find "$APT_DIR/state/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; }
if ! lists_fresh; then
  echo "apt-get update ($URI $SUITE $COMPONENTS, keyring $KEYRING) in $APT_DIR" >&2
  apt-get "${APT_OPTS[@]}" -qq update >&2
fi

candidate() { apt-cache "${APT_OPTS[@]}" show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -1; }

# Run what the package ships, so a broken unpack (or a binary this machine cannot run) fails here, not in a capture.
# Patroni runs under the system's /usr/bin/python3 with the unpacked dist-packages first on PYTHONPATH (its other
# dependencies, psycopg2, urllib3, yaml, ..., come from the system).
verify() {
  local d=$1 b
  for b in etcd etcdutl etcdctl; do
    [ -x "$d/usr/bin/$b" ] || continue
    case $b in
      etcd) "$d/usr/bin/etcd" --version | sed -n 1p ;; # sed reads to the end: no SIGPIPE under pipefail
      *) "$d/usr/bin/$b" version | sed -n 1p ;;
    esac
  done
  if [ -f "$d/usr/bin/patroni" ]; then
    PYTHONPATH="$d/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}" /usr/bin/python3 "$d/usr/bin/patroni" --version
  fi
  if [ -d "$d/usr/lib/python3/dist-packages/pythonjsonlogger" ]; then
    PYTHONPATH="$d/usr/lib/python3/dist-packages" /usr/bin/python3 -c 'import pythonjsonlogger.json; print("pythonjsonlogger imports")'
  fi
}

for pkg in "$@"; do
  ver=$(candidate "$pkg")
  [ -n "$ver" ] || { echo "package $pkg not found in $SUITE" >&2; exit 1; }
  dest=$CACHE_ROOT/$SUITE/$pkg-$ver
  if [ ! -d "$dest" ]; then
    ( cd "$APT_DIR/debs" && apt-get "${APT_OPTS[@]}" -qq download "$pkg=$ver" >&2 )
    deb=$(ls "$APT_DIR/debs/${pkg}_"*.deb | grep -F "_$(echo "$ver" | sed 's/^[0-9]*://')_" | head -1)
    [ -n "$deb" ] || { echo "download of $pkg $ver left no .deb" >&2; exit 1; }
    tmp=$(mktemp -d "$CACHE_ROOT/$SUITE/.unpack.XXXXXX")
    dpkg-deb -x "$deb" "$tmp"
    mv "$tmp" "$dest"
  fi
  verify "$dest" >&2
  echo "$pkg $ver $dest"
done
